import { describe, expect, it } from "vitest";
import { formatIdle, isExempt } from "./idle.ts";
import { idleCases, isIdleCase } from "./idle-cases.ts";

describe("isIdle", () => {
  const now = new Date("2026-01-01T00:00:00Z");
  it.each(idleCases)("$name: idle $idle", (c) => expect(isIdleCase(c, now)).toBe(c.idle));
});

describe("formatIdle", () => {
  it.each([
    [90_000, "1m"],
    [45_000, "45s"],
    [31 * 60_000, "31m"],
    [2 * 3_600_000, "2h"],
    [2 * 3_600_000 + 5 * 60_000 + 7_000, "2h5m"],
  ])("%i ms is %s", (ms, text) => expect(formatIdle(ms)).toBe(text));
});

describe("isExempt", () => {
  const exempt = { key: "reaper.exempt", value: "true" };
  it("needs the tag with its value", () => {
    expect(isExempt({ "reaper.exempt": "true" }, exempt)).toBe(true);
    expect(isExempt({ "reaper.exempt": "false" }, exempt)).toBe(false);
    expect(isExempt({}, exempt)).toBe(false);
  });
});
