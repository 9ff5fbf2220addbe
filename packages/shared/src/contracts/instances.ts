import { z } from "zod";
import { Image, ImageId, InstanceType, Region } from "./catalogue.ts";
import { defineCommand } from "./command.ts";
import {
  AvailabilityZone,
  InstanceId,
  LaunchNetwork,
  ServerAction,
  type ServerState,
  ServerState as State,
  storable,
} from "./servers.ts";
import { TenantScope } from "./tenants.ts";
import { BlockDevice, MAX_ATTACHMENTS, RootVolume } from "./volume-types.ts";

/**
 * The servers as the EC2 API shows them (instances), answered by lifecycle for the gateway's EC2
 * face: the same rows as the REST API's servers, with EC2's names, states and derived fields.
 */

/** EC2's instance states, with their codes (EC2.md §4). */
export const ec2StateCodes = {
  pending: 0,
  running: 16,
  "shutting-down": 32,
  terminated: 48,
  stopping: 64,
  stopped: 80,
} as const;
export type Ec2StateName = keyof typeof ec2StateCodes;

/** Each of our states as EC2 shows it: rebooting is running, and a server in error is terminated. */
export const ec2StateOf: Record<ServerState, Ec2StateName> = {
  provisioning: "pending",
  starting: "pending",
  running: "running",
  rebooting: "running",
  stopping: "stopping",
  stopped: "stopped",
  terminating: "shutting-down",
  terminated: "terminated",
  error: "terminated",
};

/** The most instances one RunInstances launches, and the most ids one request names. */
export const MAX_RUN_COUNT = 100;
export const MAX_INSTANCE_IDS = 1000;
/** The most instances a describe page holds, whatever MaxResults asks (each is under 1 KB on NATS). */
export const MAX_DESCRIBE_PAGE = 500;

/** The DescribeInstances filters (EC2.md §3.2), besides `tag:<key>`. */
export const instanceFilterNames = [
  "instance-id",
  "instance-state-name",
  "instance-state-code",
  "instance-type",
  "tag-key",
  "availability-zone",
  "private-ip-address",
  "ip-address",
  "image-id",
  "reservation-id",
  "launch-time",
  "client-token",
  "owner-id",
  "subnet-id",
  "vpc-id",
  "key-name",
  "dns-name",
  "private-dns-name",
  "architecture",
  "state-reason-code",
  "reason",
  "instance.group-id",
  "instance.group-name",
  "group-id",
  "group-name",
] as const;

/** What an instance does when its own OS shuts it down (instanceInitiatedShutdownBehavior). */
export const ShutdownBehavior = z.enum(["stop", "terminate"]);

const Pattern = z.string().max(256);
/** One filter: its name and the values (with * and ? wildcards) of which any may match. */
export const InstanceFilter = z.object({
  name: z.union([z.enum(instanceFilterNames), z.string().regex(/^tag:.{1,128}$/s)]),
  values: z.array(Pattern).min(1).max(200),
});
export type InstanceFilter = z.infer<typeof InstanceFilter>;

export const Instance = z.object({
  id: z.uuid(),
  instance_id: InstanceId,
  reservation_id: z.string(),
  owner_id: z.string().describe("12 digits, derived from the tenant"),
  state: State,
  state_name: z.enum(Object.keys(ec2StateCodes) as [Ec2StateName, ...Ec2StateName[]]),
  state_code: z.number().int(),
  reason: z.string(),
  state_reason_code: z.string().nullable(),
  instance_type: InstanceType,
  image_id: ImageId,
  architecture: z.string(),
  region: Region,
  availability_zone: AvailabilityZone,
  subnet_id: z.string(),
  vpc_id: z.string(),
  private_ip_address: z.string().nullable(),
  private_dns_name: z.string(),
  key_name: z.string().nullable(),
  client_token: z.string().nullable(),
  launch_time: z.string(),
  running_since: z.string().nullable(),
  tags: z.record(z.string(), z.string()),
  security_groups: z.array(z.object({ id: z.string(), name: z.string() })),
  disable_api_termination: z.boolean(),
  disable_api_stop: z.boolean(),
  shutdown_behavior: ShutdownBehavior,
  source_dest_check: z.boolean(),
  ebs_optimized: z.boolean(),
  /** The volumes attached to it, its root volume first. */
  block_devices: z.array(BlockDevice).max(MAX_ATTACHMENTS),
});
export type Instance = z.infer<typeof Instance>;

const Ids = z.array(z.string().max(100)).min(1).max(MAX_INSTANCE_IDS);
const Cursor = z.string().max(200);
/** Terminated instances updated before this time are gone from the EC2 API (EC2_TERMINATED_RETENTION). */
const VisibleAfter = z.iso.datetime({ offset: true });
/** What an EC2 request sees: its tenant's (or every tenant's) instances in the region it signed for. */
const Scope = { tenant_id: TenantScope, region: Region, visible_after: VisibleAfter };

/** EC2's tags: keys of 1-128 characters not starting aws:, values of at most 256. */
export const Ec2Tags = z
  .record(
    z
      .string()
      .min(1)
      .max(128)
      .refine((key) => !key.startsWith("aws:"), "tag keys starting aws: are reserved")
      .refine(storable, "tag keys may not hold NUL or unpaired surrogates"),
    z.string().max(256).refine(storable, "tag values may not hold NUL or unpaired surrogates"),
  )
  .refine((tags) => Object.keys(tags).length <= 50, "at most 50 tags");

/** What RunInstances launches: one server's description, for each of up to MaxCount. */
export const LaunchSpec = z.object({
  region: Region,
  availability_zone: AvailabilityZone.optional(),
  type: InstanceType,
  image: ImageId,
  key_name: z.string().max(255).optional(),
  tags: Ec2Tags.optional(),
  /** Left out: the zone's default subnet in the region's default VPC, in no security group. */
  network: LaunchNetwork.optional(),
  /** Base64, at most 16 KB once decoded, as EC2 allows. */
  user_data: z.string().max(21_848).optional(),
  disable_api_termination: z.boolean().optional(),
  disable_api_stop: z.boolean().optional(),
  shutdown_behavior: ShutdownBehavior.optional(),
  /** Left out: DEFAULT_ROOT_VOLUME. */
  root_volume: RootVolume.optional(),
  /** The root volume's tags (TagSpecification with ResourceType volume). */
  volume_tags: Ec2Tags.optional(),
});
export type LaunchSpec = z.infer<typeof LaunchSpec>;

export const TagRef = z.object({ key: z.string().max(128), value: z.string().max(256).optional() });

export const instances = {
  /**
   * A reservation: as many servers as the pool and the quota allow up to max_count, all stored
   * in one statement, or none and an error when fewer than min_count fit. A client token
   * already used with the same spec answers that reservation again.
   */
  run: defineCommand("lifecycle", "run_instances", {
    request: z.object({
      tenant_id: z.string().min(1).max(64),
      spec: LaunchSpec,
      min_count: z.number().int().min(1).max(MAX_RUN_COUNT),
      max_count: z.number().int().min(1),
      client_token: z.string().min(1).max(64).optional(),
      simulate_failure: z.literal("provision").optional(),
      /** Check the image, zone, quota and capacity, then stop: nothing is launched or remembered. */
      dry_run: z.boolean().default(false),
    }),
    reply: z.object({ reservation_id: z.string(), items: z.array(Instance), replayed: z.boolean() }),
  }),
  /** A page of instances (unknown ids: NOT_FOUND naming them), by reservation. */
  describe: defineCommand("lifecycle", "describe_instances", {
    request: z.object({
      ...Scope,
      ids: Ids.optional(),
      filters: z.array(InstanceFilter).max(50).default([]),
      limit: z.number().int().min(1).max(MAX_DESCRIBE_PAGE),
      cursor: Cursor.optional(),
    }),
    reply: z.object({ items: z.array(Instance), next_cursor: z.string().nullable() }),
  }),
  /**
   * An action on several instances, as EC2 does it: every id must exist, an action the state
   * already satisfies changes nothing, and when one is not allowed none is done.
   */
  act: defineCommand("lifecycle", "act_instances", {
    request: z.object({
      ...Scope,
      ids: Ids,
      action: ServerAction,
    }),
    reply: z.object({
      items: z.array(z.object({ instance_id: InstanceId, previous_state: State, state: State })),
    }),
  }),
  /** Sets and removes tags (a remove with a value removes the tag only while it has that value). */
  tag: defineCommand("lifecycle", "tag_instances", {
    request: z.object({
      ...Scope,
      ids: Ids,
      set: Ec2Tags.default({}),
      /** null: every tag. */
      remove: z.array(TagRef).max(50).nullable().default([]),
    }),
    reply: z.object({ count: z.number().int() }),
  }),
  /** The tags of the tenant's instances, a page at a time (DescribeTags). */
  tags: defineCommand("lifecycle", "describe_tags", {
    request: z.object({
      ...Scope,
      filters: z
        .array(
          z.object({
            name: z.union([
              z.enum(["key", "value", "resource-id", "resource-type"]),
              z.string().regex(/^tag:.{1,128}$/s),
            ]),
            values: z.array(Pattern).min(1).max(200),
          }),
        )
        .max(50)
        .default([]),
      limit: z.number().int().min(1).max(1000),
      cursor: Cursor.optional(),
    }),
    reply: z.object({
      items: z.array(z.object({ instance_id: InstanceId, key: z.string(), value: z.string() })),
      next_cursor: z.string().nullable(),
    }),
  }),
  /** The machine images servers can be made from. */
  images: defineCommand("lifecycle", "images", {
    request: z.object({}),
    reply: z.object({ items: z.array(Image) }),
  }),
};
