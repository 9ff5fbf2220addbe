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
