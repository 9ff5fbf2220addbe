import { type Clock, type Db, type Logger, startLoop } from "@cloudsim/shared";
import { completeDueTransitions } from "../db/due-transitions.ts";

/**
 * The durable timer: due times live in the servers rows, so a transition survives a restart
 * and completes on whichever replica polls first. Due by `clock`; the loop's interval is real time.
 */
export function startTimers(db: Db, clock: Clock, opts: { intervalMs: number; batch: number; log: Logger }) {
  return startLoop("timer", () => completeDueTransitions(db, opts.batch, clock), opts);
}
