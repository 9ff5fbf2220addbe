import { z } from "zod";
import { InstanceType, Region } from "./catalogue.ts";
import { subject } from "./command.ts";
import { Actor, ServerState } from "./servers.ts";

/**
 * Events: `events.<aggregate>.<what>` on one JetStream stream, published from each service's
 * outbox with Nats-Msg-Id = id. Consumers are idempotent by id.
 */
const EventBase = z.object({
  id: z.uuid(),
  occurred_at: z.string().describe("RFC 3339 time the change was committed"),
  server_id: z.uuid(),
  request_id: z.string().nullable(),
});

/** A server entered `to_state`; published by lifecycle on `events.server.<to_state>`. */
export const ServerStateChanged = EventBase.extend({
  type: z.literal("server.state_changed"),
  from_state: ServerState.nullable(),
  to_state: ServerState,
  actor: Actor,
  server: z.object({ region: Region, type: InstanceType, ip_address: z.string().nullable() }),
});
export type ServerStateChanged = z.infer<typeof ServerStateChanged>;

/** ipam took back a server's address; published by ipam on `events.ipam.released`. */
export const AddressReleased = EventBase.extend({
  type: z.literal("ipam.released"),
  region: Region,
  address: z.string(),
});
export type AddressReleased = z.infer<typeof AddressReleased>;

export const serverEventSubject = (state: ServerState) => subject("events", "server", state);
export const addressReleasedSubject = subject("events", "ipam", "released");

/** The subjects of the events stream, and the filters consumers use. */
export const eventSubjects = {
  all: "events.>",
  server: "events.server.>",
  ipam: "events.ipam.>",
} as const;
