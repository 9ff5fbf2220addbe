import { loadConfig } from "@cloudsim/shared";
import { describe, expect, it } from "vitest";
import { reaperConfig } from "./config.ts";

describe("reaper configuration", () => {
  it("reads a bare IDLE_TIMEOUT as minutes, as the original README did", () => {
    expect(loadConfig(reaperConfig, { IDLE_TIMEOUT: "30" }).IDLE_TIMEOUT).toBe(30 * 60_000);
  });
  it("also takes 90s and 2h", () => {
    expect(loadConfig(reaperConfig, { IDLE_TIMEOUT: "90s" }).IDLE_TIMEOUT).toBe(90_000);
    expect(loadConfig(reaperConfig, { IDLE_TIMEOUT: "2h" }).IDLE_TIMEOUT).toBe(7_200_000);
  });
  it("defaults to 30 minutes, a live sweep and the reaper.exempt=true tag", () => {
    const config = loadConfig(reaperConfig, {});
    expect(config).toMatchObject({ IDLE_TIMEOUT: 1_800_000, REAPER_DRY_RUN: false });
    expect(config.REAPER_EXEMPT_TAG).toEqual({ key: "reaper.exempt", value: "true" });
  });
  it("refuses what it cannot read, naming the variable", () => {
    expect(() => loadConfig(reaperConfig, { IDLE_TIMEOUT: "soon", REAPER_DRY_RUN: "maybe" })).toThrow(
      /IDLE_TIMEOUT[\s\S]*REAPER_DRY_RUN/,
    );
  });
});
