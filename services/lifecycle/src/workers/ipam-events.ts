import { AddressReleased, type Bus, consumeEvents, eventSubjects, type Logger } from "@cloudsim/shared";
import type { LifecycleRepository } from "../db/repository.ts";

/** Writes what ipam did to a server into that server's log, once per event. */
export function consumeIpamEvents(bus: Bus, repo: LifecycleRepository, log: Logger) {
  return consumeEvents({
    bus,
    durable: "lifecycle-ipam-log",
    filter: eventSubjects.ipam,
    schema: AddressReleased,
    log,
    handle: (event) =>
      repo.addLogEntryFromEvent(event.server_id, {
        type: "ip.released",
        message: `address ${event.address} released`,
        actor: "system",
        requestId: event.request_id,
        eventId: event.id,
        at: new Date(event.occurred_at),
      }),
  });
}
