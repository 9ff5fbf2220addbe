import { setTimeout as sleep } from "node:timers/promises";
import { catchUps, currentDeadline, deadlinePassed, type HandlerMetrics } from "@cloudsim/shared";
import { type Sweeper, sweepOnce } from "./sweep.ts";

/** How often a catch-up looks again while another replica's sweep holds the lock. */
const LOCKED_RETRY_MS = 20;

/**
 * At each stop of a simulated clock's catch-up: the server events settled, a sweep at the clock's
 * time (after another replica's, when one is sweeping), and when the next server becomes idle.
 * Bounded by the request's deadline, which the command server holds it to.
 */
export function serveCatchUp(sweeper: Sweeper, settled: () => Promise<void>, metrics: HandlerMetrics) {
  const { bus, repo, config } = sweeper;
  bus.serve(
    catchUps.reaper,
    async () => {
      await settled();
      let swept = await sweepOnce(sweeper);
      while (!swept) {
        const deadline = currentDeadline();
        // real time: a wait, within the request's deadline.
        if (deadline !== undefined && Date.now() + LOCKED_RETRY_MS >= deadline)
          throw deadlinePassed("another replica's sweep held the lock", deadline);
        await sleep(LOCKED_RETRY_MS);
        swept = await sweepOnce(sweeper);
      }
      const next = await repo.nextIdleDue(config.IDLE_TIMEOUT);
      return { acted: swept.reaped + swept.spared, next_due_at: next?.toISOString() ?? null };
    },
    metrics,
  );
}
