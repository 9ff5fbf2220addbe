import { processedEventsTable, tracedOutboxTable, traceIdColumn } from "@cloudsim/shared/event-tables";
import { sql } from "drizzle-orm";
import {
  bigint,
  boolean,
  index,
  inet,
  integer,
  jsonb,
  pgSchema,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";

export const lifecycleSchema = pgSchema("lifecycle");

const time = (name: string) => timestamp(name, { withTimezone: true });

/**
 * Tenants: who owns servers; max_* null means the configured default (TENANT_MAX_*). The
 * *_in_use counters are kept by a trigger on servers (migration 0005), so a quota check reads
 * one row instead of counting the tenant's servers.
 */
export const tenants = lifecycleSchema.table("tenants", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  maxServers: integer("max_servers"),
  maxVcpus: integer("max_vcpus"),
  serversInUse: integer("servers_in_use").notNull().default(0),
  vcpusInUse: integer("vcpus_in_use").notNull().default(0),
  createdAt: time("created_at").notNull().defaultNow(),
});

/** API keys, by the SHA-256 of the key (the key itself is never stored). */
export const apiKeys = lifecycleSchema.table(
  "api_keys",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id),
    keyHash: text("key_hash").notNull(),
    /** The key sealed with the gateway's AWS_SECRETS_KEY, so a SigV4 signature can be checked; never plain. */
    awsSecret: text("aws_secret"),
    createdAt: time("created_at").notNull().defaultNow(),
    revokedAt: time("revoked_at"),
  },
  (t) => [uniqueIndex("api_keys_hash_key").on(t.keyHash), index("api_keys_tenant_idx").on(t.tenantId)],
);

/** Servers; due_at is the durable timer of a timed state (provisioning, stopping, …). */
export const servers = lifecycleSchema.table(
  "servers",
  {
    id: uuid("id").primaryKey(),
    /** The owner; rows from before tenancy belong to `default`. */
    tenantId: text("tenant_id").notNull().default("default"),
    name: text("name").notNull(),
    region: text("region").notNull(),
    type: text("type").notNull(),
    /** The vCPUs of its type when created: what it counts against its tenant's max_vcpus. */
    vcpus: integer("vcpus").notNull(),
    state: text("state").notNull(),
    ipAddress: inet("ip_address"),
    tags: jsonb("tags").$type<Record<string, string>>().notNull().default({}),
    createdAt: time("created_at").notNull().defaultNow(),
    updatedAt: time("updated_at").notNull().defaultNow(),
    runningSince: time("running_since"),
    dueAt: time("due_at"),
    /** The request that started the current timed state, for the log entry that ends it. */
    pendingRequestId: text("pending_request_id"),
    /** The current timed state ends in `error` (X-Simulate-Failure, PROVISION_FAILURE_RATE). */
    failPending: boolean("fail_pending").notNull().default(false),
    version: integer("version").notNull().default(0),
    /** The EC2 API's id of the same server: i- and the last 17 hex digits of its UUID. */
    instanceId: text("instance_id")
      .notNull()
      .generatedAlwaysAs(sql`'i-' || right(replace(id::text, '-', ''), 17)`),
    /** The launch request it came from: one per REST provision, one per RunInstances. */
    reservationId: text("reservation_id").notNull(),
    image: text("image").notNull(),
    availabilityZone: text("availability_zone").notNull(),
    architecture: text("architecture").notNull().default("x86_64"),
    keyName: text("key_name"),
    /** RunInstances' ClientToken, shown and filterable as EC2 shows it. */
    clientToken: text("client_token"),
    /** Its subnet and VPC as the gateway resolved them with ipam; null: the zone's default subnet. */
    subnetId: text("subnet_id"),
    vpcId: text("vpc_id"),
    securityGroups: jsonb("security_groups").$type<{ id: string; name: string }[]>().notNull().default([]),
    /** Nova's server tags (plain strings, beside the key-value tags its metadata is). */
    labels: jsonb("labels").$type<string[]>().notNull().default([]),
    /** EC2's instance attributes (DescribeInstanceAttribute / ModifyInstanceAttribute). */
    userData: text("user_data"),
    disableApiTermination: boolean("disable_api_termination").notNull().default(false),
    disableApiStop: boolean("disable_api_stop").notNull().default(false),
    shutdownBehavior: text("shutdown_behavior").notNull().default("stop"),
    sourceDestCheck: boolean("source_dest_check").notNull().default(true),
    ebsOptimized: boolean("ebs_optimized").notNull().default(false),
  },
  (t) => [
    uniqueIndex("servers_instance_id_key").on(t.instanceId),
    index("servers_reservation_idx").on(t.reservationId),
    // ZONE_CAPACITY counts a zone's live servers.
    index("servers_zone_live_idx")
      .on(t.availabilityZone)
      .where(sql`${t.state} NOT IN ('terminated', 'error')`),
    index("servers_due_idx").on(t.dueAt).where(sql`${t.dueAt} IS NOT NULL`),
    index("servers_tenant_idx").on(t.tenantId, t.id),
    index("servers_region_idx").on(t.region, t.id),
    // region and type together, so a combination with few (or no) servers is not a walk of the region.
    index("servers_region_type_idx").on(t.region, t.type, t.id),
    index("servers_type_idx").on(t.type, t.id),
    index("servers_state_idx").on(t.state, t.id),
    index("servers_tags_idx").using("gin", t.tags),
    // A security group or a subnet in use (DeleteSecurityGroup, DeleteSubnet) is found without a walk.
    index("servers_security_groups_idx").using("gin", t.securityGroups),
    index("servers_subnet_idx").on(t.subnetId).where(sql`${t.subnetId} IS NOT NULL`),
    // No two servers that have not ended hold one address (an ended server holds none).
    uniqueIndex("servers_live_address_key")
      .on(t.ipAddress)
      .where(sql`${t.state} NOT IN ('terminated', 'error')`),
  ],
);

/**
 * Servers ipam's reservation check gave up on (their address went back to the pool): none of
 * them may be created any more. A trigger on servers refuses their insert (migration 0006).
 */
export const abandonedServers = lifecycleSchema.table("abandoned_servers", {
  id: uuid("id").primaryKey(),
  abandonedAt: time("abandoned_at").notNull().defaultNow(),
});

/** The per-server log: every transition and what other services did to the server. */
export const serverEvents = lifecycleSchema.table(
  "server_events",
  {
    id: bigint("id", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    serverId: uuid("server_id")
      .notNull()
      .references(() => servers.id),
    at: time("at").notNull().defaultNow(),
    type: text("type").notNull(),
    message: text("message").notNull(),
    fromState: text("from_state"),
    toState: text("to_state"),
    actor: text("actor").notNull(),
    requestId: text("request_id"),
    traceId: traceIdColumn(),
    /** The event this entry was written from, when another service did it; one entry per event. */
    eventId: uuid("event_id"),
  },
  (t) => [
    index("server_events_server_idx").on(t.serverId, t.id),
    uniqueIndex("server_events_event_key").on(t.eventId),
  ],
);

/** Idempotency-Key → the server it created and a hash of the body that created it. */
export const idempotencyKeys = lifecycleSchema.table("idempotency_keys", {
  key: text("key").primaryKey(),
  requestHash: text("request_hash").notNull(),
  serverId: uuid("server_id")
    .notNull()
    .references(() => servers.id),
  createdAt: time("created_at").notNull().defaultNow(),
});

/** RunInstances' ClientTokens (per tenant and region): the reservation each made, and a hash of its request. */
export const clientTokens = lifecycleSchema.table(
  "client_tokens",
  {
    tenantId: text("tenant_id").notNull(),
    region: text("region").notNull(),
    token: text("token").notNull(),
    requestHash: text("request_hash").notNull(),
    reservationId: text("reservation_id").notNull(),
    createdAt: time("created_at").notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.region, t.token] })],
);

/** EC2 key pairs: the public half and its fingerprint, per tenant and region (the private key is never kept). */
export const keyPairs = lifecycleSchema.table(
  "key_pairs",
  {
    id: uuid("id").primaryKey(),
    /** key- and the last 17 hex digits of its UUID. */
    keyPairId: text("key_pair_id")
      .notNull()
      .generatedAlwaysAs(sql`'key-' || right(replace(id::text, '-', ''), 17)`),
    tenantId: text("tenant_id").notNull(),
    region: text("region").notNull(),
    name: text("name").notNull(),
    type: text("type").notNull(),
    fingerprint: text("fingerprint").notNull(),
    publicKey: text("public_key").notNull(),
    tags: jsonb("tags").$type<Record<string, string>>().notNull().default({}),
    createdAt: time("created_at").notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex("key_pairs_name_key").on(t.tenantId, t.region, t.name),
    uniqueIndex("key_pairs_key_pair_id_key").on(t.keyPairId),
  ],
);

/**
 * EBS volumes, per tenant and region, in a zone. due_at is the durable timer of their timed
 * states (creating, attaching, detaching, deleting), as servers' is; instance_ended is set by a
 * trigger on servers (migration 0011) when the instance a volume is attached to ends, and makes
 * the timer release it (delete it, or detach it, as delete_on_termination says).
 */
export const volumes = lifecycleSchema.table(
  "volumes",
  {
    id: uuid("id").primaryKey(),
    /** vol- and the last 17 hex digits of its UUID. */
    volumeId: text("volume_id")
      .notNull()
      .generatedAlwaysAs(sql`'vol-' || right(replace(id::text, '-', ''), 17)`),
    tenantId: text("tenant_id").notNull(),
    region: text("region").notNull(),
    availabilityZone: text("availability_zone").notNull(),
    sizeGib: integer("size_gib").notNull(),
    type: text("type").notNull(),
    iops: integer("iops"),
    throughput: integer("throughput"),
    encrypted: boolean("encrypted").notNull().default(false),
    /** creating, available, in-use, deleting, deleted (EC2's names). */
    state: text("state").notNull(),
    tags: jsonb("tags").$type<Record<string, string>>().notNull().default({}),
    createdAt: time("created_at").notNull().defaultNow(),
    updatedAt: time("updated_at").notNull().defaultNow(),
    /** The instance it is attached to, at which device, and how far the attachment is. */
    serverId: uuid("server_id").references(() => servers.id),
    device: text("device"),
    attachmentState: text("attachment_state"),
    attachTime: time("attach_time"),
    deleteOnTermination: boolean("delete_on_termination").notNull().default(false),
    instanceEnded: boolean("instance_ended").notNull().default(false),
    dueAt: time("due_at"),
    /** The request that started the current timed state, for its event. */
    pendingRequestId: text("pending_request_id"),
    /** CreateVolume's ClientToken and a hash of its request: a retry answers the same volume. */
    clientToken: text("client_token"),
    requestHash: text("request_hash"),
  },
  (t) => [
    uniqueIndex("volumes_volume_id_key").on(t.volumeId),
    index("volumes_tenant_idx").on(t.tenantId, t.region, t.id),
    index("volumes_due_idx").on(t.dueAt).where(sql`${t.dueAt} IS NOT NULL`),
    // One volume at a device of an instance: a second attach there is refused by this.
    uniqueIndex("volumes_attachment_key").on(t.serverId, t.device).where(sql`${t.serverId} IS NOT NULL`),
    index("volumes_tags_idx").using("gin", t.tags),
    uniqueIndex("volumes_client_token_key")
      .on(t.tenantId, t.region, t.clientToken)
      .where(sql`${t.clientToken} IS NOT NULL`),
  ],
);

export const outbox = tracedOutboxTable(lifecycleSchema);
export const processedEvents = processedEventsTable(lifecycleSchema);
