import type { Logger } from "@cloudsim/shared";
import type { LifecycleRepository } from "../db/repository.ts";

/**
 * The durable timer: due times live in the servers rows, so a transition survives a restart
 * and completes on whichever replica polls first. A full batch polls again at once.
 */
export function startTimers(
  repo: LifecycleRepository,
  opts: { intervalMs: number; batch: number; log: Logger },
) {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();

  const tick = async () => {
    let moved = 0;
    try {
      moved = await repo.completeDueTransitions(opts.batch);
      if (moved > 0) opts.log.debug({ moved }, "timed transitions completed");
    } catch (err) {
      opts.log.error({ err }, "timer tick failed");
    }
    if (!stopped) timer = setTimeout(schedule, moved >= opts.batch ? 0 : opts.intervalMs);
  };
  const schedule = () => {
    running = tick();
  };
  schedule();

  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
