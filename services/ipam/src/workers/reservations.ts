import { AppError, type Bus, type Logger, lifecycle, type ReplyOf, startLoop } from "@cloudsim/shared";
import type { IpamRepository } from "../db/repository.ts";

/**
 * Takes back addresses whose server was never stored (lifecycle died or the reply was lost
 * between allocate and insert): a reservation unconfirmed after IP_CONFIRM_TIMEOUT is settled
 * with lifecycle.abandon, which frees it only when the server's insert can no longer happen.
 */
export function startReservationCheck(
  bus: Bus,
  repo: IpamRepository,
  opts: { confirmTimeoutMs: number; intervalMs: number; log: Logger },
) {
  const batch = 100;
  return startLoop(
    "reservation check",
    async () => {
      const serverIds = await repo.unconfirmedSince(opts.confirmTimeoutMs, batch);
      let settled = 0;
      for (const serverId of serverIds) {
        let outcome: ReplyOf<typeof lifecycle.abandon>["outcome"];
        try {
          ({ outcome } = await bus.request(lifecycle.abandon, { id: serverId }));
        } catch (err) {
          // lifecycle not answering (yet): ask again next round.
          if (err instanceof AppError && err.code === "UNAVAILABLE") return settled;
          throw err;
        }
        if (outcome === "pending") {
          // Longer than IP_CONFIRM_TIMEOUT: lifecycle's database is slow or locked.
          opts.log.warn(
            { server_id: serverId, outcome },
            "the server's insert is under way: asked again next round",
          );
          continue;
        }
        settled++;
        if (outcome === "exists") {
          await repo.confirm([serverId]);
          continue;
        }
        const [released] = await repo.release([serverId]);
        opts.log.warn(
          { server_id: serverId, address: released?.address, outcome },
          "released the address of a server that was never created",
        );
      }
      // Servers still pending are not done: a round of only those waits the interval, not none.
      return settled;
    },
    { intervalMs: opts.intervalMs, batch, log: opts.log },
  );
}
