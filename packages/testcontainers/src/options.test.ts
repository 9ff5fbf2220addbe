import { describe, expect, it } from "vitest";
import { clockEnvironment, type Delays, delayEnvironment, durationText } from "./options.ts";

describe("delayEnvironment", () => {
  it("names each delay's setting, milliseconds as ms", () => {
    expect(delayEnvironment({ provision: "2s", volumeAttach: 250, stop: undefined })).toEqual({
      PROVISION_DELAY: "2s",
      VOLUME_ATTACH_DELAY: "250ms",
    });
  });
  it("refuses an unknown delay and a value that is no duration, naming it", () => {
    expect(() => delayEnvironment({ boot: "1s" } as Delays)).toThrow(/unknown delay "boot"/);
    expect(() => delayEnvironment({ provision: "2 seconds" as "2s" })).toThrow(/withDelays.provision/);
    expect(() => delayEnvironment({ start: -1 })).toThrow(/withDelays.start: -1/);
    expect(() => delayEnvironment({ start: 1.5 })).toThrow(/whole number/);
  });
});

describe("clockEnvironment", () => {
  it("reads manual as a simulated clock standing still, simulated at a rate from a start", () => {
    expect(clockEnvironment("real")).toEqual({ CLOCK: "real" });
    expect(clockEnvironment("manual")).toEqual({ CLOCK: "simulated", CLOCK_RATE: "0" });
    expect(clockEnvironment("simulated", { rate: 60, start: "2030-01-01T00:00:00Z" })).toEqual({
      CLOCK: "simulated",
      CLOCK_RATE: "60",
      CLOCK_START: "2030-01-01T00:00:00.000Z",
    });
    expect(clockEnvironment("manual", { start: new Date(0) }).CLOCK_START).toBe("1970-01-01T00:00:00.000Z");
  });
  it("refuses what the mode has no use for, and rates and starts out of bounds", () => {
    expect(() => clockEnvironment("real", { rate: 2 })).toThrow(/simulated clock/);
    expect(() => clockEnvironment("manual", { rate: 2 })).toThrow(/stands still/);
    expect(() => clockEnvironment("fast" as "real")).toThrow(/unknown mode "fast"/);
    expect(() => clockEnvironment("simulated", { rate: 2_000_000 })).toThrow(/0 to 1000000/);
    expect(() => clockEnvironment("simulated", { start: "soon" })).toThrow(/"soon" is no time/);
  });
});

describe("durationText", () => {
  it("passes a duration through, and names what it refuses", () => {
    expect(durationText("advanceClock", "31d")).toBe("31d");
    expect(() => durationText("advanceClock", "1.5h" as "1h")).toThrow(
      /advanceClock: "1.5h" is not a duration/,
    );
  });
});
