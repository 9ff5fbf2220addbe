import { type Bus, consumeEvents, eventSubjects, type Logger, ServerStateChanged } from "@cloudsim/shared";
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
    durable: "reaper-watch",
    filter: eventSubjects.server,
    schema: ServerStateChanged,
    log,
    handle: (event) =>
      repo.recordState(
        event.server_id,
        event.to_state,
        new Date(event.occurred_at),
        isExempt(event.server.tags, exemptTag),
        event.tenant_id,
      ),
  });
}
