import { z } from "zod";
import { BillingUsage } from "./billing.ts";
import { ImageId, InstanceType, Region } from "./catalogue.ts";
import { defineCommand } from "./command.ts";
import { pageLimit } from "./paging.ts";
import { TenantScope } from "./tenants.ts";
import { Timestamp } from "./timestamp.ts";

export const serverStates = [
  "provisioning",
  "running",
  "stopping",
  "stopped",
  "starting",
  "rebooting",
  "terminating",
  "terminated",
  "error",
] as const;
export const ServerState = z.enum(serverStates);
export type ServerState = z.infer<typeof ServerState>;

export const Actor = z.enum(["user", "system", "reaper"]);
export type Actor = z.infer<typeof Actor>;

export const serverActions = ["start", "stop", "reboot", "terminate"] as const;
export const ServerAction = z.enum(serverActions);
export type ServerAction = z.infer<typeof ServerAction>;

/** The body of POST /servers/{id}/action. */
export const ActionBody = z.object({ action: ServerAction }).strict();

/** What X-Simulate-Failure can make fail: the timed state then ends in `error`. */
export const SimulatedFailure = z
  .enum(["provision", "start", "reboot"])
  .describe("Makes this provision or action end in the error state, for testing failure handling");
export type SimulatedFailure = z.infer<typeof SimulatedFailure>;

/** NUL and lone surrogates: Postgres stores neither in text or jsonb. */
const loneSurrogate = /\p{Cs}/u;
export const storable = (s: string) => !s.includes("\u0000") && !loneSurrogate.test(s);

/** The most tags (the metadata Nova shows) one server holds. */
export const MAX_SERVER_TAGS = 50;
/** The most labels (Nova's server tags) one server holds, as Nova allows. */
export const MAX_SERVER_LABELS = 50;
/** A label: 1-60 characters, neither / nor , (Nova's tag). */
export const ServerLabel = z
  .string()
  .min(1)
  .max(60)
  .regex(/^[^/,]+$/, "tags may not contain / or ,")
  .refine(storable, "tags may not hold NUL or unpaired surrogates");

export const Tags = z
  .record(
    z.string().regex(/^[A-Za-z0-9_./-]{1,64}$/, "tag keys are 1-64 of A-Z a-z 0-9 _ . / -"),
    z
      .string()
      .max(256, "tag values are at most 256 characters")
      .refine(storable, "tag values may not hold NUL or unpaired surrogates"),
  )
  .refine((tags) => Object.keys(tags).length <= MAX_SERVER_TAGS, `at most ${MAX_SERVER_TAGS} tags`)
  .describe("Free-form labels");

/** An availability zone: a region and a letter. */
export const AvailabilityZone = z
  .string()
  .regex(/^[a-z]{2}-[a-z]+-[0-9][a-z]$/, "availability zones are a region and a letter, e.g. eu-west-1a");

/** An EC2 instance id: i- and 17 hex digits, the last 17 of the server's UUID. */
export const InstanceId = z.string().regex(/^i-[0-9a-f]{17}$/);

/** The most security groups one instance is in, as EC2 allows per network interface. */
export const MAX_INSTANCE_SECURITY_GROUPS = 16;

/**
 * Where an instance is on the network, as the gateway resolved it with ipam before the launch:
 * its subnet (whose pool gives its address), the subnet's VPC, and its security groups.
 */
export const LaunchNetwork = z.object({
  subnet_id: z.string().min(1).max(64),
  vpc_id: z.string().min(1).max(64),
  security_groups: z
    .array(z.object({ id: z.string().min(1).max(64), name: z.string().max(255) }))
    .max(MAX_INSTANCE_SECURITY_GROUPS),
});
export type LaunchNetwork = z.infer<typeof LaunchNetwork>;

/** The body of POST /servers. */
/** A server's name: 1-63 of A-Z a-z 0-9 _ . -, starting with a letter or digit. */
export const ServerName = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/,
    "names are 1-63 of A-Z a-z 0-9 _ . - starting with a letter or digit",
  );

export const ProvisionBody = z
  .object({
    name: ServerName.optional().describe("Defaults to server-<last 8 characters of the id>"),
    region: Region,
    type: InstanceType,
    image: ImageId.optional().describe("Machine image (GET /images); defaults to the first one"),
    availability_zone: AvailabilityZone.optional().describe("The region and a, b or c; defaults to a"),
    tags: Tags.optional(),
  })
  .strict();
export type ProvisionBody = z.infer<typeof ProvisionBody>;

export const Server = z
  .object({
    id: z.uuid(),
    instance_id: InstanceId.describe("The same server's id in the EC2 API (i- and 17 hex digits)"),
    reservation_id: z.string().describe("The EC2 reservation (one launch request) it belongs to"),
    name: z.string(),
    region: Region,
    type: InstanceType,
    image: ImageId,
    availability_zone: AvailabilityZone,
    vcpus: z.number().int(),
    memory_mib: z.number().int(),
    state: ServerState,
    ip_address: z.string().nullable(),
    key_name: z.string().nullable().describe("The key pair it was launched with (EC2 and OpenStack)"),
    subnet_id: z.string().describe("Its subnet: the zone's default subnet unless launched into another"),
    vpc_id: z.string().describe("Its subnet's VPC (the OpenStack face's network)"),
    security_groups: LaunchNetwork.shape.security_groups,
    labels: z.array(z.string()).describe("Nova's server tags (the OpenStack face's /servers/{id}/tags)"),
    tags: z.record(z.string(), z.string()),
    created_at: Timestamp,
    updated_at: Timestamp,
    running_since: Timestamp.nullable().describe("When the server last reached running; null unless running"),
    uptime_seconds: z.number().int().describe("Seconds since the server last reached running"),
    billing: BillingUsage.nullable()
      .optional()
      .describe("What the server has cost so far (GET /servers/{id} only); null when billing did not answer"),
  })
  .meta({ id: "Server" });
export type Server = z.infer<typeof Server>;

/** `tag=key:value`, repeatable; every one must match. */
const TagFilter = z
  .union([z.string(), z.array(z.string())])
  .transform((value) => (Array.isArray(value) ? value : [value]))
  .pipe(
    z
      // `s`: a tag value may hold line breaks, and every value a tag can hold can be filtered on.
      .array(
        z
          .string()
          .regex(/^[^:]{1,64}:.{0,256}$/s, "tag filters are key:value")
          .refine(storable, "tag filters may not hold NUL or unpaired surrogates"),
      )
      .max(10, "at most 10 tag filters"),
  )
  .optional()
  .describe("key:value; repeat to require several tags");

const Cursor = z.string().max(200).optional().describe("next_cursor of the previous page");

export const ListServersQuery = z
  .object({
    region: Region.optional(),
    type: InstanceType.optional(),
    state: ServerState.optional().describe("Terminated servers are listed only when asked for by state"),
    tag: TagFilter,
    limit: pageLimit(100),
    cursor: Cursor,
  })
  .strict();

/** GET /servers' query: the list's filters, and `status`, the original API's name for `state`. */
export const ListServersParams = ListServersQuery.extend({
  status: ServerState.optional().describe("Another name for state, as the original API called it"),
}).refine((query) => !query.status || !query.state || query.status === query.state, {
  path: ["status"],
  message: "status is another name for state: give one of them, or the same value in both",
});

export const ServerPage = z
  .object({ items: z.array(Server), next_cursor: z.string().nullable() })
  .meta({ id: "ServerPage" });

export const LogEntry = z
  .object({
    id: z.string(),
    at: Timestamp,
    type: z.string().describe("What happened, e.g. state.changed or ip.allocated"),
    message: z.string(),
    from_state: ServerState.nullable(),
    to_state: ServerState.nullable(),
    actor: Actor,
    request_id: z.string().nullable(),
    trace_id: z.string().nullable(),
  })
  .meta({ id: "LogEntry" });
export type LogEntry = z.infer<typeof LogEntry>;

export const LogsQuery = z.object({ limit: pageLimit(100), cursor: Cursor }).strict();
export const LogPage = z
  .object({ items: z.array(LogEntry), next_cursor: z.string().nullable() })
  .meta({ id: "LogPage" });

/** A server as a tenant names it: lifecycle finds it only within `tenant_id`'s scope. */
const TenantServerRef = z.object({ id: z.string().describe("Server id"), tenant_id: TenantScope });

/** Commands answered by lifecycle. */
export const lifecycle = {
  provision: defineCommand("lifecycle", "provision", {
    request: z.object({
      /** The owner of the new server. */
      tenant_id: z.string().min(1).max(64),
      server: ProvisionBody,
      /** What the OpenStack face launches with beyond the REST body: the key pair, and the network. */
      key_name: z.string().min(1).max(255).optional(),
      network: LaunchNetwork.optional(),
      idempotency_key: z.string().min(1).max(255).optional(),
      simulate_failure: z.literal("provision").optional(),
    }),
    reply: z.object({ server: Server, replayed: z.boolean() }),
  }),
  action: defineCommand("lifecycle", "action", {
    request: TenantServerRef.extend({
      action: ServerAction,
      actor: Actor.default("user"),
      simulate_failure: SimulatedFailure.optional(),
      /** Act only if the server is still in this state (the reaper's re-check). */
      expected_state: ServerState.optional(),
      /** Act only if the server has not changed since this time (RFC 3339). */
      unchanged_since: z.string().datetime({ offset: true }).optional(),
      /** Why, for the server's log (e.g. "idle for 31m"). */
      reason: z.string().max(200).optional(),
    }),
    reply: Server,
  }),
  get: defineCommand("lifecycle", "get", { request: TenantServerRef, reply: Server }),
  list: defineCommand("lifecycle", "list", {
    request: ListServersQuery.extend({ tenant_id: TenantScope }),
    reply: ServerPage,
  }),
  logs: defineCommand("lifecycle", "logs", {
    request: TenantServerRef.extend(LogsQuery.shape),
    reply: LogPage,
  }),
  /** A new name (Nova's PUT /servers/{id}); a terminated server keeps its own. */
  rename: defineCommand("lifecycle", "rename_server", {
    request: TenantServerRef.extend({ name: ServerName }),
    reply: Server,
  }),
  /**
   * Nova's server tags, changed in one statement: `replace` them all, or remove `remove` (null:
   * every one) and add `add`; VALIDATION (label_limit) and nothing changed past MAX_SERVER_LABELS.
   */
  label: defineCommand("lifecycle", "label_server", {
    request: TenantServerRef.extend({
      replace: z.array(ServerLabel).max(MAX_SERVER_LABELS).optional(),
      add: z.array(ServerLabel).max(MAX_SERVER_LABELS).default([]),
      remove: z.array(ServerLabel).max(MAX_SERVER_LABELS).nullable().default([]),
    }),
    reply: z.object({ labels: z.array(z.string()) }),
  }),
  /**
   * For ipam's reservation check: gives up a server that is not stored, so it can never be
   * (`abandoned`: its address may go back to the pool); `exists` when it is stored; `pending`
   * while its insert is under way (ask again).
   */
  abandon: defineCommand("lifecycle", "abandon", {
    request: z.object({ id: z.uuid() }),
    reply: z.object({ outcome: z.enum(["exists", "abandoned", "pending"]) }),
  }),
};
