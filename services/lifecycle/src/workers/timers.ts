import { type Db, type Logger, startLoop } from "@cloudsim/shared";
import { completeDueTransitions } from "../db/due-transitions.ts";

/**
 * The durable timer: due times live in the servers rows, so a transition survives a restart
 * and completes on whichever replica polls first.
 */
export function startTimers(db: Db, opts: { intervalMs: number; batch: number; log: Logger }) {
  return startLoop("timer", () => completeDueTransitions(db, opts.batch), opts);
}
