import { type Logger, startLoop } from "@cloudsim/shared";
import type { LifecycleRepository } from "../db/repository.ts";

/**
 * The durable timer: due times live in the servers rows, so a transition survives a restart
 * and completes on whichever replica polls first.
 */
export function startTimers(
  repo: LifecycleRepository,
  opts: { intervalMs: number; batch: number; log: Logger },
) {
  return startLoop("timer", () => repo.completeDueTransitions(opts.batch), opts);
}
