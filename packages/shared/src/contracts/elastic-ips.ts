import { z } from "zod";
import { defineCommand } from "./command.ts";
import {
  describeRequest,
  MAX_NETWORK_IDS,
  NetworkId,
  networkOwner,
  networkScope,
  page,
  Tags,
} from "./network-resources.ts";

/** An Elastic IP: a public address of the tenant's, and the instance interface it is associated with. */
export const ElasticIp = z.object({
  allocation_id: z.string(),
  public_ip: z.string(),
  owner_id: z.string(),
  association_id: z.string().nullable(),
  instance_id: z.string().nullable(),
  network_interface_id: z.string().nullable(),
  private_ip_address: z.string().nullable(),
  tags: z.record(z.string(), z.string()),
});
export type ElasticIp = z.infer<typeof ElasticIp>;

/** The DescribeAddresses filters, besides `tag:<key>`. */
export const elasticIpFilterNames = [
  "allocation-id",
  "association-id",
  "instance-id",
  "network-interface-id",
  "network-interface-owner-id",
  "private-ip-address",
  "public-ip",
  "domain",
  "tag-key",
] as const;

/** One address, by its allocation id or its public IP. */
const AddressRef = {
  allocation_id: NetworkId.optional(),
  public_ip: z.string().max(64).optional(),
};

/** Commands answered by ipam: Elastic IPs, from the public pool (IPAM_PUBLIC_POOL). */
export const elasticIps = {
  allocate: defineCommand("ipam", "allocate_address", {
    request: z.object({ ...networkOwner, tags: Tags.default({}) }),
    reply: ElasticIp,
  }),
  describe: defineCommand("ipam", "describe_addresses", {
    request: describeRequest.extend({ public_ips: z.array(z.string().max(64)).min(1).max(100).optional() }),
    reply: page(ElasticIp),
  }),
  /**
   * Onto an instance's interface (the gateway found it): an address associated elsewhere moves
   * only with allow_reassociation; an address the instance had before is disassociated.
   */
  associate: defineCommand("ipam", "associate_address", {
    request: z.object({
      ...networkScope,
      ...AddressRef,
      server_id: z.uuid(),
      instance_id: NetworkId,
      network_interface_id: NetworkId,
      private_ip_address: z.string().max(64),
      allow_reassociation: z.boolean().default(false),
    }),
    reply: z.object({ association_id: z.string() }),
  }),
  disassociate: defineCommand("ipam", "disassociate_address", {
    request: z.object({
      ...networkScope,
      association_id: NetworkId.optional(),
      public_ip: AddressRef.public_ip,
    }),
    reply: z.object({ allocation_id: z.string() }),
  }),
  /** Back to the pool; refused while associated. */
  release: defineCommand("ipam", "release_address", {
    request: z.object({ ...networkScope, ...AddressRef }),
    reply: z.object({ allocation_id: z.string() }),
  }),
  /** The addresses associated with these servers (a describe page's instances). */
  ofServers: defineCommand("ipam", "addresses_of_servers", {
    request: z.object({ ...networkScope, server_ids: z.array(z.uuid()).min(1).max(MAX_NETWORK_IDS) }),
    reply: z.object({
      items: z.array(
        z.object({
          server_id: z.string(),
          public_ip: z.string(),
          allocation_id: z.string(),
          association_id: z.string(),
        }),
      ),
    }),
  }),
};
