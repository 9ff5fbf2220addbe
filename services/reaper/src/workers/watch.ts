import { type Bus, consumeEvents, type Logger, natsRoles, ServerStateChanged } from "@cloudsim/shared";
import type { ReaperRepository } from "../db/repository.ts";
import { isExempt } from "../domain/idle.ts";

/** Learns every server's state from the event stream; missed events wait in the durable consumer. */
export function watchServers(
  bus: Bus,
  repo: ReaperRepository,
  exemptTag: { key: string; value: string },
  log: Logger,
) {
  return consumeEvents({
    bus,
    ...natsRoles.reaper.consumers.watch,
    schema: ServerStateChanged,
    log,
    handleBatch: (events) =>
      repo.recordStates(
        events.map(({ event }) => ({
          serverId: event.server_id,
          state: event.to_state,
          at: new Date(event.occurred_at),
          exempt: isExempt(event.server.tags, exemptTag),
          tenantId: event.tenant_id,
          actor: event.actor,
        })),
      ),
  });
}
