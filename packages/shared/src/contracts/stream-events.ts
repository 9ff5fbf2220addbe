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
  /** The tenant that owns the server; events written before tenancy belong to `default`. */
  tenant_id: z.string().default("default"),
  from_state: ServerState.nullable(),
  to_state: ServerState,
  actor: Actor,
  server: z.object({
    region: Region,
    type: InstanceType,
    ip_address: z.string().nullable(),
    tags: z.record(z.string(), z.string()),
  }),
});
export type ServerStateChanged = z.infer<typeof ServerStateChanged>;

/** ipam took back a server's address; published by ipam on `events.ipam.released`. */
export const AddressReleased = EventBase.extend({
  type: z.literal("ipam.released"),
  region: Region,
  address: z.string(),
});
export type AddressReleased = z.infer<typeof AddressReleased>;

/** Billing of a server began (it entered a billable state); published by billing on `events.billing.started`. */
export const BillingStarted = EventBase.extend({
  type: z.literal("billing.started"),
  rate: z.string().describe("Price per minute"),
  currency: z.string(),
});
export type BillingStarted = z.infer<typeof BillingStarted>;

/** A billable interval closed and was settled; published by billing on `events.billing.stopped`. */
export const BillingStopped = EventBase.extend({
  type: z.literal("billing.stopped"),
  rate: z.string().describe("Price per minute"),
  currency: z.string(),
  amount: z.string().describe("What the interval that closed cost (minimum charge included)"),
  billable_seconds: z.number(),
});
export type BillingStopped = z.infer<typeof BillingStopped>;

export const BillingEvent = z.discriminatedUnion("type", [BillingStarted, BillingStopped]);
export type BillingEvent = z.infer<typeof BillingEvent>;

export const serverEventSubject = (state: ServerState) => subject("events", "server", state);
export const addressReleasedSubject = subject("events", "ipam", "released");
export const billingEventSubject = (what: "started" | "stopped") => subject("events", "billing", what);

/** The subjects of the events stream, and the filters consumers use. */
export const eventSubjects = {
  all: "events.>",
  server: "events.server.>",
  ipam: "events.ipam.>",
  billing: "events.billing.>",
} as const;
