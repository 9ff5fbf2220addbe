import { type Bus, consumeEvents, eventSubjects, type Logger, ServerStateChanged } from "@cloudsim/shared";
import type { IpamRepository } from "../db/repository.ts";

/** States after which a server holds no address. */
const ended = new Set(["terminated", "error"]);

/** Confirms the address of every server an event shows exists; takes it back when the server ended. */
export function consumeServerEvents(bus: Bus, repo: IpamRepository, log: Logger) {
  return consumeEvents({
    bus,
    durable: "ipam-release",
    filter: eventSubjects.server,
    schema: ServerStateChanged,
    log,
    handle: async (event) => {
      if (ended.has(event.to_state)) await repo.releaseForEvent(event.id, event.server_id, event.request_id);
      else await repo.confirm(event.server_id);
    },
  });
}
