import { type Bus, consumeEvents, type Logger, natsRoles, ServerStateChanged } from "@cloudsim/shared";
import type { ElasticIpRepository } from "../db/elastic-ips.ts";
import type { IpamRepository } from "../db/repository.ts";

/** States after which a server holds no address. */
const ended = new Set(["terminated", "error"]);

/**
 * Confirms the address of every server an event shows exists; takes it back when the server
 * ended, and disassociates its Elastic IP.
 */
export function consumeServerEvents(
  bus: Bus,
  repo: IpamRepository,
  elasticIps: ElasticIpRepository,
  log: Logger,
) {
  return consumeEvents({
    bus,
    ...natsRoles.ipam.consumers.serverEvents,
    schema: ServerStateChanged,
    log,
    handleBatch: async (events) => {
      const endedEvents = events.filter(({ event }) => ended.has(event.to_state));
      const others = events.filter(({ event }) => !ended.has(event.to_state));
      // Confirming first is what one by one would leave too: a confirmation after the release
      // finds no address, and the release clears the confirmation.
      await repo.confirm(others.map(({ event }) => event.server_id));
      await elasticIps.disassociateServers(endedEvents.map(({ event }) => event.server_id));
      await repo.releaseForEvents(
        endedEvents.map(({ event }) => ({
          id: event.id,
          serverId: event.server_id,
          requestId: event.request_id,
        })),
      );
    },
  });
}
