import { type Clock, type Db, type Logger, startLoop } from "@cloudsim/shared";
import { completeDueTransitions } from "../db/due-transitions.ts";
import type { VolumeDelays } from "../domain/volume-states.ts";
import { completeDueVolumeTransitions } from "../volumes/due-transitions.ts";

/**
 * The durable timer: due times live in the servers and volumes rows, so a transition survives a
 * restart and completes on whichever replica polls first. Due by `clock`; the loop's interval is
 * real time. Returns how many timed states ended (servers' and volumes').
 */
export function startTimers(
  db: Db,
  clock: Clock,
  opts: { intervalMs: number; batch: number; log: Logger; volumeDelays: VolumeDelays },
) {
  return startLoop("timer", () => completeDueTimers(db, opts.batch, clock, opts.volumeDelays), opts);
}

/** One round of the timer: the servers' due transitions, then the volumes' (an ended server releases its volumes). */
export async function completeDueTimers(db: Db, batch: number, clock: Clock, volumeDelays: VolumeDelays) {
  const servers = await completeDueTransitions(db, batch, clock);
  return servers + (await completeDueVolumeTransitions(db, batch, clock, volumeDelays));
}
