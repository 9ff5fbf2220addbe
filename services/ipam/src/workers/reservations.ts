import { AppError, type Bus, type Logger, lifecycle, startLoop } from "@cloudsim/shared";
import type { IpamRepository } from "../db/repository.ts";

/**
 * An address handed out for a server that was never stored (lifecycle died, or NATS lost the
 * reply, between allocate and insert) would leak. Allocations stay reservations until an
 * event shows the server exists; one older than IP_CONFIRM_TIMEOUT is checked with lifecycle
 * and released when lifecycle does not know the server.
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
      for (const serverId of serverIds) {
        try {
          await bus.request(lifecycle.get, { id: serverId });
          await repo.confirm([serverId]);
        } catch (err) {
          // lifecycle not answering (yet): ask again next round.
          if (err instanceof AppError && err.code === "UNAVAILABLE") return 0;
          if (!(err instanceof AppError && err.code === "NOT_FOUND")) throw err;
          const [released] = await repo.release([serverId]);
          opts.log.warn(
            { server_id: serverId, address: released?.address },
            "released the address of a server that was never created",
          );
        }
      }
      return serverIds.length;
    },
    { intervalMs: opts.intervalMs, batch, log: opts.log },
  );
}
