import { z } from "zod";
import { defineCommand } from "./command.ts";
import { describeRequest, NetworkId, networkOwner, networkScope, page, Tags } from "./network-resources.ts";
import { LaunchNetwork, MAX_INSTANCE_SECURITY_GROUPS } from "./servers.ts";

/** A subnet: a default one per zone of a default VPC, or a tenant's own, each a pool of addresses. */
export const Subnet = z.object({
  subnet_id: z.string(),
  vpc_id: z.string(),
  owner_id: z.string(),
  cidr_block: z.string(),
  availability_zone: z.string(),
  available_ip_address_count: z.number().int().describe("Addresses a launch can take now"),
  default_for_az: z.boolean(),
  map_public_ip_on_launch: z.boolean(),
  tags: z.record(z.string(), z.string()),
});
export type Subnet = z.infer<typeof Subnet>;

/** The DescribeSubnets filters, besides `tag:<key>`. */
export const subnetFilterNames = [
  "subnet-id",
  "vpc-id",
  "cidr",
  "cidr-block",
  "cidrBlock",
  "availability-zone",
  "availabilityZone",
  "available-ip-address-count",
  "default-for-az",
  "defaultForAz",
  "map-public-ip-on-launch",
  "owner-id",
  "state",
  "tag-key",
] as const;

const GroupRefs = z.array(NetworkId).max(MAX_INSTANCE_SECURITY_GROUPS).default([]);

/** Commands answered by ipam: subnets, and where a launch goes on the network. */
export const subnets = {
  /** In one of the tenant's VPCs, inside its CIDR, overlapping no sibling, /16 to /28. */
  create: defineCommand("ipam", "create_subnet", {
    request: z.object({
      ...networkOwner,
      vpc_id: NetworkId,
      cidr_block: z.string().max(64),
      /** Left out: the region's first zone. */
      availability_zone: z.string().max(64).optional(),
      tags: Tags.default({}),
    }),
    reply: Subnet,
  }),
  describe: defineCommand("ipam", "describe_subnets", { request: describeRequest, reply: page(Subnet) }),
  /** Refused while any of its addresses is held, and for a default subnet. */
  delete: defineCommand("ipam", "delete_subnet", {
    request: z.object({ ...networkScope, subnet_id: NetworkId }),
    reply: z.object({ subnet_id: z.string() }),
  }),
  modify: defineCommand("ipam", "modify_subnet", {
    request: z.object({ ...networkScope, subnet_id: NetworkId, map_public_ip_on_launch: z.boolean() }),
    reply: Subnet,
  }),
  /**
   * Where a launch goes: the subnet (left out: the zone's default subnet, the zone left out the
   * region's first), its VPC and zone, and the security groups by id or by name in that VPC
   * (none named: the VPC's default group, made when first needed).
   */
  placement: defineCommand("ipam", "launch_placement", {
    request: z.object({
      ...networkOwner,
      subnet_id: NetworkId.optional(),
      availability_zone: z.string().max(64).optional(),
      group_ids: GroupRefs,
      group_names: z.array(z.string().max(255)).max(MAX_INSTANCE_SECURITY_GROUPS).default([]),
    }),
    reply: z.object({
      network: LaunchNetwork,
      availability_zone: z.string(),
      map_public_ip_on_launch: z.boolean(),
    }),
  }),
};
