import { processedEventsTable, tracedOutboxTable } from "@cloudsim/shared/event-tables";
import { sql } from "drizzle-orm";
import {
  boolean,
  foreignKey,
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

export const ipamSchema = pgSchema("ipam");

/**
 * The address pools: one per region (IPAM_POOLS; id = the region, which the default subnets draw
 * from), one per user subnet (id = the subnet id), and the public pool of Elastic IPs
 * (IPAM_PUBLIC_POOL; id = "public").
 */
export const pools = ipamSchema.table("pools", {
  id: text("id").primaryKey(),
  kind: text("kind").$type<"region" | "subnet" | "public">().notNull().default("region"),
  /** The region of a region's or a subnet's pool; null for the public pool, which every region shares. */
  region: text("region"),
  cidr: text("cidr").notNull(),
  size: integer("size").notNull(),
  /** The first usable address, from the network address: 2 (network, gateway), 4 in a subnet as AWS reserves. */
  firstOffset: integer("first_offset").notNull().default(2),
  /**
   * How many of the pool's addresses, from its first, have a row: the rest are free and get
   * theirs a chunk at a time when allocation finds no free row (size: all of them).
   */
  materialised: integer("materialised").notNull(),
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
});

/**
 * The usable addresses of every pool that have been needed so far (pools.materialised of them,
 * from the first), one row each. A row with a server_id is allocated; allocation claims a free
 * row from a random point onwards with FOR UPDATE SKIP LOCKED.
 */
export const addresses = ipamSchema.table(
  "addresses",
  {
    // No foreign key to pools: its check on each new row was most of the time a first start
    // took; a pool's addresses go with it in ensurePool.
    poolId: text("pool_id").notNull(),
    address: inet("address").notNull(),
    /** Its holder: a server, or in the public pool an Elastic IP (elastic_ips.holder_id). */
    serverId: uuid("server_id"),
    allocatedAt: timestamp("allocated_at", { withTimezone: true }),
    /** Set when lifecycle's event shows the server exists; until then the allocation is a reservation. */
    confirmedAt: timestamp("confirmed_at", { withTimezone: true }),
    releasedAt: timestamp("released_at", { withTimezone: true }),
  },
  (t) => [
    primaryKey({ columns: [t.poolId, t.address] }),
    uniqueIndex("addresses_server_id_key").on(t.serverId),
    index("addresses_free_idx").on(t.poolId, t.address).where(sql`${t.serverId} IS NULL`),
    index("addresses_unconfirmed_idx")
      .on(t.allocatedAt)
      .where(sql`${t.serverId} IS NOT NULL AND ${t.confirmedAt} IS NULL`),
  ],
);

const tags = () => jsonb("tags").$type<Record<string, string>>().notNull().default({});
const createdAt = () => timestamp("created_at", { withTimezone: true }).notNull().defaultNow();

/**
 * VPCs: each region's default VPC (tenant null: every tenant's, not deletable) and the tenants' own.
 */
export const vpcs = ipamSchema.table(
  "vpcs",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id"),
    region: text("region").notNull(),
    cidr: text("cidr").notNull(),
    isDefault: boolean("is_default").notNull().default(false),
    enableDnsSupport: boolean("enable_dns_support").notNull().default(true),
    enableDnsHostnames: boolean("enable_dns_hostnames").notNull().default(false),
    tags: tags(),
    createdAt: createdAt(),
  },
  (t) => [index("vpcs_tenant_idx").on(t.tenantId, t.region, t.id)],
);

/**
 * Subnets: a default one per zone of each default VPC (drawing from the region's pool), and the
 * tenants' own, each with a pool of its own whose id is the subnet's.
 */
export const subnets = ipamSchema.table(
  "subnets",
  {
    id: text("id").primaryKey(),
    vpcId: text("vpc_id").notNull(),
    tenantId: text("tenant_id"),
    region: text("region").notNull(),
    availabilityZone: text("availability_zone").notNull(),
    cidr: text("cidr").notNull(),
    /** The pool its addresses come from: the subnet's own, or a default subnet's region's. */
    poolId: text("pool_id").notNull(),
    defaultForAz: boolean("default_for_az").notNull().default(false),
    mapPublicIpOnLaunch: boolean("map_public_ip_on_launch").notNull().default(false),
    tags: tags(),
    createdAt: createdAt(),
  },
  (t) => [
    foreignKey({ name: "subnets_vpc_fk", columns: [t.vpcId], foreignColumns: [vpcs.id] }),
    index("subnets_vpc_idx").on(t.vpcId),
    index("subnets_tenant_idx").on(t.tenantId, t.region, t.id),
  ],
);

/** Security groups, each a tenant's, in a VPC; "default" is made once per VPC and tenant. */
export const securityGroups = ipamSchema.table(
  "security_groups",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id").notNull(),
    vpcId: text("vpc_id").notNull(),
    region: text("region").notNull(),
    name: text("name").notNull(),
    description: text("description").notNull(),
    isDefault: boolean("is_default").notNull().default(false),
    tags: tags(),
    createdAt: createdAt(),
  },
  (t) => [
    foreignKey({ name: "security_groups_vpc_fk", columns: [t.vpcId], foreignColumns: [vpcs.id] }),
    uniqueIndex("security_groups_name_key").on(t.tenantId, t.vpcId, t.name),
    index("security_groups_tenant_idx").on(t.tenantId, t.region, t.id),
  ],
);

/**
 * One rule of a group: a direction, a protocol and port range, and one target (an IPv4 or IPv6
 * range, or a group). Two rules alike but for their description are one (the unique index).
 */
export const securityGroupRules = ipamSchema.table(
  "security_group_rules",
  {
    id: text("id").primaryKey(),
    groupId: text("group_id").notNull(),
    isEgress: boolean("is_egress").notNull(),
    protocol: text("protocol").notNull(),
    fromPort: integer("from_port"),
    toPort: integer("to_port"),
    cidrIpv4: text("cidr_ipv4"),
    cidrIpv6: text("cidr_ipv6"),
    referencedGroupId: text("referenced_group_id"),
    description: text("description"),
    createdAt: createdAt(),
  },
  (t) => [
    foreignKey({
      name: "security_group_rules_group_fk",
      columns: [t.groupId],
      foreignColumns: [securityGroups.id],
    }).onDelete("cascade"),
    uniqueIndex("security_group_rules_key").on(
      t.groupId,
      t.isEgress,
      t.protocol,
      sql`coalesce(${t.fromPort}, -1)`,
      sql`coalesce(${t.toPort}, -1)`,
      sql`coalesce(${t.cidrIpv4}, '')`,
      sql`coalesce(${t.cidrIpv6}, '')`,
      sql`coalesce(${t.referencedGroupId}, '')`,
    ),
    index("security_group_rules_referenced_idx").on(t.referencedGroupId),
  ],
);

/**
 * Elastic IPs: an address of the public pool (held in ipam.addresses by holder_id), a tenant's,
 * and while associated the instance (its server id, for its end) and private address it maps to.
 */
export const elasticIps = ipamSchema.table(
  "elastic_ips",
  {
    allocationId: text("allocation_id").primaryKey(),
    holderId: uuid("holder_id").notNull(),
    tenantId: text("tenant_id").notNull(),
    region: text("region").notNull(),
    publicIp: inet("public_ip").notNull(),
    associationId: text("association_id"),
    instanceId: text("instance_id"),
    serverId: uuid("server_id"),
    networkInterfaceId: text("network_interface_id"),
    privateIp: inet("private_ip"),
    tags: tags(),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex("elastic_ips_holder_key").on(t.holderId),
    uniqueIndex("elastic_ips_association_key").on(t.associationId),
    // An instance's one interface has one private address, so at most one Elastic IP.
    uniqueIndex("elastic_ips_server_key").on(t.serverId),
    index("elastic_ips_tenant_idx").on(t.tenantId, t.region, t.allocationId),
  ],
);

export const outbox = tracedOutboxTable(ipamSchema);
export const processedEvents = processedEventsTable(ipamSchema);
