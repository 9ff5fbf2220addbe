import { afterEach, describe, expect, it, vi } from "vitest";
import { SimulatedClock, simulatedAt } from "./clock.ts";

const REAL = Date.parse("2026-11-29T12:00:00Z");
const SIM = Date.parse("2030-01-01T00:00:00Z");

describe("SimulatedClock", () => {
  afterEach(() => vi.useRealTimers());
  const at = (realNow: number) => vi.useFakeTimers({ now: realNow, toFake: ["Date"] });

  it("reads its reading plus the real time since, times its rate", () => {
    expect(simulatedAt({ sim: SIM, real: REAL, rate: 60 }, REAL + 1_000)).toBe(SIM + 60_000);
    at(REAL + 2_000);
    expect(new SimulatedClock({ sim: SIM, real: REAL, rate: 3600 }).now()).toBe(SIM + 2 * 3_600_000);
    expect(new SimulatedClock({ sim: SIM, real: REAL, rate: 0 }).now()).toBe(SIM);
  });

  it("follows a newer reading forward, and never reads earlier than it once did", () => {
    at(REAL);
    const clock = new SimulatedClock({ sim: SIM, real: REAL, rate: 1 });
    clock.follow({ sim: SIM + 86_400_000, real: REAL, rate: 1 });
    expect(clock.now()).toBe(SIM + 86_400_000);
    // A reading behind it (an older revision, late): the clock stays where it was.
    clock.follow({ sim: SIM, real: REAL, rate: 1 });
    expect(clock.now()).toBe(SIM + 86_400_000);
  });

  it("never reads earlier than a time it observed on a message", () => {
    at(REAL);
    const clock = new SimulatedClock({ sim: SIM, real: REAL, rate: 0 });
    clock.observe(SIM + 5_000);
    expect(clock.now()).toBe(SIM + 5_000);
    clock.observe(SIM);
    expect(clock.now()).toBe(SIM + 5_000);
  });
});
