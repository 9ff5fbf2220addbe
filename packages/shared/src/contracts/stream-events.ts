import { z } from "zod";
import { InstanceType, Region } from "./catalogue.ts";
import { subject } from "./command.ts";
import { Actor, ServerState } from "./servers.ts";
import { VolumeType } from "./volume-types.ts";
import { VolumeState } from "./volumes.ts";

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

/**
 * A volume entered `to_state`; published by lifecycle on `events.volume.<to_state>`. Not on the
 * servers' feed (StreamEvent): billing reads these to bill a volume's GB-hours.
 */
export const VolumeStateChanged = z.object({
  id: z.uuid(),
  type: z.literal("volume.state_changed"),
  occurred_at: z.string().describe("RFC 3339 time the change was committed"),
  /** The volume's UUID (its EC2 id is volume.volume_id). */
  volume_id: z.uuid(),
  tenant_id: z.string(),
  request_id: z.string().nullable(),
  from_state: VolumeState.nullable(),
  to_state: VolumeState,
  volume: z.object({
    volume_id: z.string(),
    region: Region,
    size_gib: z.number().int(),
    volume_type: VolumeType,
  }),
});
export type VolumeStateChanged = z.infer<typeof VolumeStateChanged>;

export const volumeEventSubject = (state: VolumeState) => subject("events", "volume", state);

export const serverEventSubject = (state: ServerState) => subject("events", "server", state);
export const addressReleasedSubject = subject("events", "ipam", "released");
export const billingEventSubject = (what: "started" | "stopped") => subject("events", "billing", what);

/** The subjects of the events stream, and the filters consumers use. */
export const eventSubjects = {
  all: "events.>",
  server: "events.server.>",
  ipam: "events.ipam.>",
  billing: "events.billing.>",
  volume: "events.volume.>",
} as const;

/** Every event the stream carries, by its `type`. */
export const StreamEvent = z.discriminatedUnion("type", [
  ServerStateChanged,
  AddressReleased,
  BillingStarted,
  BillingStopped,
]);
export type StreamEvent = z.infer<typeof StreamEvent>;
export const eventTypes = StreamEvent.options.map((o) => o.shape.type.value);
export type EventType = StreamEvent["type"];

/** GET /events' filters: every one given must match. */
export const EventsQuery = z
  .object({
    server_id: z.uuid().optional().describe("Only this server's events"),
    type: z
      .string()
      .optional()
      .describe(`Only these types, comma-separated: ${eventTypes.join(", ")}`)
      .transform((list, ctx) => {
        if (list === undefined) return undefined;
        const wanted = list.split(",").map((t) => t.trim());
        const unknown = wanted.filter((t) => !(eventTypes as string[]).includes(t));
        if (unknown.length > 0)
          ctx.addIssue({
            code: "custom",
            message: `unknown type ${unknown.join(", ")}: one of ${eventTypes.join(", ")}`,
          });
        return wanted as EventType[];
      }),
    region: Region.optional().describe("Only events of servers in this region"),
  })
  .strict();
export type EventsQuery = z.infer<typeof EventsQuery>;

/** The first message of a resumed feed whose Last-Event-ID is older than what the stream keeps. */
export const FeedSkipped = z.object({
  type: z.literal("feed.skipped"),
  /** The first and last sequence no longer kept: those events were never sent. */
  skipped_from: z.number().int(),
  skipped_to: z.number().int(),
  message: z.string(),
});
export type FeedSkipped = z.infer<typeof FeedSkipped>;

/** The last message of a feed the gateway ends: why, and whether reconnecting helps. */
export const FeedClosed = z.object({
  type: z.literal("feed.closed"),
  reason: z.enum(["too_slow", "shutting_down"]),
  message: z.string(),
});
export type FeedClosed = z.infer<typeof FeedClosed>;
