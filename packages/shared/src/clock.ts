/**
 * The time of simulated things: server states and their timers, bills, idle time, address
 * cooldowns, log and event times. Each service reads it from the one Clock its runtime holds,
 * never from Date.now() or Postgres' now(), so a simulated clock can stand in for every one of
 * them at once (issue 20). Real waits (HTTP, NATS, database timeouts, request deadlines, caches)
 * stay on Date.now().
 */
export interface Clock {
  /** Unix milliseconds. */
  now(): number;
}

/** The machine's clock. */
export const realClock: Clock = { now: () => Date.now() };

/** The clock's time as a Date (for timestamptz parameters and JSON). */
export const clockDate = (clock: Clock): Date => new Date(clock.now());

/**
 * Where a simulated clock stands: at real time `real` it read `sim`, and it runs `rate` times
 * as fast as real time from there. One such reading is the whole clock (clock-store.ts keeps it).
 */
export interface ClockReading {
  sim: number;
  real: number;
  rate: number;
}

/** The simulated time a reading gives at real time `realNow`. */
export const simulatedAt = (reading: ClockReading, realNow: number): number =>
  reading.sim + (realNow - reading.real) * reading.rate;

/**
 * A simulated clock in one process: it follows the newest reading it is given and never reads
 * earlier than it once did, nor than a time it observed on a message (a message never arrives
 * before it was sent, whichever replica heard of an advance first).
 */
export class SimulatedClock implements Clock {
  private latest = 0;

  constructor(private reading: ClockReading) {}

  get rate(): number {
    return this.reading.rate;
  }

  /** The reading it follows. */
  get current(): ClockReading {
    return this.reading;
  }

  now(): number {
    // real time: the real time elapsed since the reading is what a running clock adds.
    this.observe(simulatedAt(this.reading, Date.now()));
    return Math.floor(this.latest);
  }

  /** Follows a newer reading (an advance, or a change of rate). */
  follow(reading: ClockReading): void {
    this.reading = reading;
  }

  /** A time seen elsewhere (a message's sender's clock): this clock reads no earlier from now on. */
  observe(ms: number): void {
    if (ms > this.latest) this.latest = ms;
  }
}
