import { describe, expect, it } from "vitest";
import { formatIdle, isExempt, isIdle } from "./idle.ts";

const t0 = new Date("2026-01-01T00:00:00Z");
const after = (ms: number) => new Date(t0.getTime() + ms);
const thirtyMinutes = 30 * 60_000;

describe("isIdle", () => {
  it("is stopped for longer than the timeout", () => {
    expect(isIdle("stopped", t0, after(thirtyMinutes + 1), thirtyMinutes)).toBe(true);
  });
  it("is not exactly at the timeout, nor before it", () => {
    expect(isIdle("stopped", t0, after(thirtyMinutes), thirtyMinutes)).toBe(false);
    expect(isIdle("stopped", t0, after(1_000), thirtyMinutes)).toBe(false);
  });
  it("is never a server in any other state, however long", () => {
    for (const state of ["running", "stopping", "starting", "error", "terminated", "provisioning"]) {
      expect(isIdle(state, t0, after(10 * thirtyMinutes), thirtyMinutes)).toBe(false);
    }
  });
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
