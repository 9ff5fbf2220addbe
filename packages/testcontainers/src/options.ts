/** What CloudsimContainer's options become: the container's environment, checked before it starts. */

/** A time span: milliseconds as a number, or text such as "500ms", "2s", "30m", "1h", "31d". */
export type Duration = number | `${number}${"ms" | "s" | "m" | "h" | "d"}`;

/** The timed states' lengths (the system's *_DELAY settings). */
export interface Delays {
  provision?: Duration;
  start?: Duration;
  stop?: Duration;
  reboot?: Duration;
  terminate?: Duration;
  volumeCreate?: Duration;
  volumeAttach?: Duration;
  volumeDetach?: Duration;
  volumeDelete?: Duration;
}

const delaySettings: Record<keyof Delays, string> = {
  provision: "PROVISION_DELAY",
  start: "START_DELAY",
  stop: "STOP_DELAY",
  reboot: "REBOOT_DELAY",
  terminate: "TERMINATE_DELAY",
  volumeCreate: "VOLUME_CREATE_DELAY",
  volumeAttach: "VOLUME_ATTACH_DELAY",
  volumeDetach: "VOLUME_DETACH_DELAY",
  volumeDelete: "VOLUME_DELETE_DELAY",
};

/**
 * The clock of simulated things (states, bills, idle time, logs):
 * - "real": the machine's time.
 * - "manual": a simulated clock that stands still until advanceClock() moves it.
 * - "simulated": a simulated clock running at `rate` times real time (1 unless given), which
 *   advanceClock() can also move forward.
 */
export type ClockMode = "real" | "manual" | "simulated";

export interface ClockOptions {
  /** Where the simulated clock starts (default: the real time of the start). */
  start?: Date | string;
  /** Simulated seconds per real second, "simulated" only (default 1). */
  rate?: number;
}

/** The system's bound on CLOCK_RATE. */
const MAX_CLOCK_RATE = 1_000_000;

const durationPattern = /^\d+(ms|s|m|h|d)$/;

/** A duration as the system's settings and POST /admin/clock read it, or a TypeError naming `what`. */
export function durationText(what: string, value: Duration): string {
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value) || value < 0)
      throw new TypeError(`${what}: ${value} is not a whole number of milliseconds`);
    return `${value}ms`;
  }
  if (!durationPattern.test(value))
    throw new TypeError(
      `${what}: "${value}" is not a duration (a whole number of ms, s, m, h or d, like "2s")`,
    );
  return value;
}

/** The settings of `delays`, e.g. { provision: "2s" } → { PROVISION_DELAY: "2s" }. */
export function delayEnvironment(delays: Delays): Record<string, string> {
  const environment: Record<string, string> = {};
  for (const [name, value] of Object.entries(delays) as [keyof Delays, Duration | undefined][]) {
    const setting = delaySettings[name];
    if (setting === undefined)
      throw new TypeError(
        `withDelays: unknown delay "${name}" (known: ${Object.keys(delaySettings).join(", ")})`,
      );
    if (value !== undefined) environment[setting] = durationText(`withDelays.${name}`, value);
  }
  return environment;
}

/** The settings of a clock mode: CLOCK, CLOCK_RATE and CLOCK_START. */
export function clockEnvironment(mode: ClockMode, options: ClockOptions = {}): Record<string, string> {
  if (mode === "real") {
    if (options.start !== undefined || options.rate !== undefined)
      throw new TypeError('withClock("real"): start and rate are for a simulated clock');
    return { CLOCK: "real" };
  }
  if (mode !== "manual" && mode !== "simulated")
    throw new TypeError(`withClock: unknown mode "${String(mode)}" (real, manual or simulated)`);
  if (mode === "manual" && options.rate !== undefined)
    throw new TypeError('withClock("manual"): a manual clock stands still; use "simulated" for a rate');
  const rate = mode === "manual" ? 0 : (options.rate ?? 1);
  if (!Number.isFinite(rate) || rate < 0 || rate > MAX_CLOCK_RATE)
    throw new TypeError(`withClock: rate ${rate} is not 0 to ${MAX_CLOCK_RATE} simulated seconds per second`);
  const environment: Record<string, string> = { CLOCK: "simulated", CLOCK_RATE: String(rate) };
  if (options.start !== undefined) {
    const start = new Date(options.start);
    if (Number.isNaN(start.getTime()))
      throw new TypeError(`withClock: start "${String(options.start)}" is no time`);
    environment.CLOCK_START = start.toISOString();
  }
  return environment;
}
