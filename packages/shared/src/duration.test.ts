import { describe, expect, it } from "vitest";
import { parseDuration } from "./duration.ts";

describe("parseDuration", () => {
  it("reads each unit", () => {
    expect(parseDuration("250ms", "s")).toBe(250);
    expect(parseDuration("2s", "m")).toBe(2_000);
    expect(parseDuration("90s", "m")).toBe(90_000);
    expect(parseDuration("30m", "s")).toBe(1_800_000);
    expect(parseDuration("2h", "s")).toBe(7_200_000);
    expect(parseDuration("1d", "s")).toBe(86_400_000);
    expect(parseDuration("1.5s", "s")).toBe(1_500);
  });
  it("reads a bare number in the unit it is given", () => {
    expect(parseDuration("30", "m")).toBe(1_800_000);
    expect(parseDuration("2", "s")).toBe(2_000);
    expect(parseDuration(" 0 ", "s")).toBe(0);
  });
  it("refuses what is not a duration", () => {
    for (const bad of ["", "soon", "-1s", "2 weeks", "1e3", "s", "2sec"])
      expect(parseDuration(bad, "s")).toBeUndefined();
  });
});
