import { AppError, type Bus, type ClockStore, catchUps, type Db, type Logger } from "@cloudsim/shared";
import { nextStopDue } from "../db/stop-due.ts";
import type { VolumeDelays } from "../domain/volume-states.ts";
import { completeDueTimers } from "../workers/timers.ts";

/** Stops one catch-up makes at most (each a time something fell due that others act on). */
const MAX_STOPS = 10_000;

/** Rounds at one stop at most, while the reaper and the timers keep acting on each other. */
const MAX_ROUNDS = 100;

export interface CatchUpDeps {
  bus: Bus;
  db: Db;
  store: ClockStore;
  /** lifecycle's own outbox published and its consumers drained. */
  settled(): Promise<void>;
  timerBatch: number;
  volumeDelays: VolumeDelays;
  log: Logger;
}

/**
 * Moves the simulated clock to `target` (Unix ms) the way the time would have passed, and returns
 * how many stops it made. Timed states end at their due times whenever the timer gets to them
 * (due-transitions.ts) and billing counts from the events' times, so neither needs the clock to
 * stop; the reaper judges idle time at the time it sweeps, so the clock stops at each time it
 * may act: when a server becomes stopped, and when a stopped one's idle time runs out. At each
 * stop every service settles its events and acts (catchUpRound); at the end billing accrues.
 */
export async function catchUpTo(target: number, deps: CatchUpDeps): Promise<number> {
  const { store } = deps;
  let at = store.clock.now();
  let stops = 0;
  for (;;) {
    const reaperDue = await settleAt(at, deps);
    if (at >= target) break;
    if (++stops > MAX_STOPS)
      throw new AppError(
        "UNAVAILABLE",
        `the catch-up made ${MAX_STOPS} stops and is at ${iso(at)}: move the clock in shorter steps`,
        { at: iso(at), max_stops: MAX_STOPS },
      );
    const stopDue = await nextStopDue(deps.db, new Date(at));
    // A reaper's time already past is one it failed to act on: it retries by itself.
    const dues = [reaperDue, stopDue].filter((due): due is number => due !== null && due > at);
    at = await store.advanceAtLeastTo(Math.min(target, ...dues));
  }
  await deps.bus.request(catchUps.billing, { at: iso(at), final: true });
  // What billing and ipam said last, in lifecycle's logs.
  await deps.settled();
  deps.log.info({ clock: iso(store.clock.now()), stops }, "simulated clock caught up");
  return stops;
}

/**
 * Rounds at one time until one does nothing: the due timers fire, lifecycle's events are
 * published, ipam and billing settle theirs, the reaper settles and sweeps. Returns when the
 * reaper may next act by itself (Unix ms), or null.
 */
async function settleAt(at: number, deps: CatchUpDeps): Promise<number | null> {
  const request = { at: iso(at), final: false };
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const fired = await fireDueTimers(deps);
    await deps.settled();
    await Promise.all([
      deps.bus.request(catchUps.ipam, request),
      deps.bus.request(catchUps.billing, request),
    ]);
    const reaper = await deps.bus.request(catchUps.reaper, request);
    if (fired === 0 && reaper.acted === 0) return reaper.next_due_at ? Date.parse(reaper.next_due_at) : null;
  }
  throw new AppError(
    "UNAVAILABLE",
    `the services were still acting after ${MAX_ROUNDS} rounds at ${iso(at)}`,
    {
      at: iso(at),
    },
  );
}

/** Every timed state due by the clock's time, batch after batch; how many ended. */
async function fireDueTimers({ db, store, timerBatch, volumeDelays }: CatchUpDeps): Promise<number> {
  let fired = 0;
  for (;;) {
    const ended = await completeDueTimers(db, timerBatch, store.clock, volumeDelays);
    fired += ended;
    if (ended < timerBatch) return fired;
  }
}

const iso = (ms: number) => new Date(ms).toISOString();
