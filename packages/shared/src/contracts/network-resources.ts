import { z } from "zod";
import { Region } from "./catalogue.ts";
import { defineCommand } from "./command.ts";
import { Ec2Tags } from "./instances.ts";
import { RetagReply, RetagRequest, TagListReply, TagListRequest } from "./resource-tags.ts";
import { TenantId, TenantScope } from "./tenants.ts";

/**
 * What the networking contracts (vpcs.ts, subnets.ts, security-groups.ts, elastic-ips.ts) share:
 * a request's scope, describe pages and their filters, tags, and the reasons ipam gives its errors.
 */

/** The most items one describe page holds, whatever MaxResults asks; a page also stops before it outgrows a NATS message. */
export const MAX_NETWORK_PAGE = 1000;
/** The most ids one describe names. */
export const MAX_NETWORK_IDS = 1000;

export const NetworkId = z.string().min(1).max(64);

/** What a request sees: its tenant's resources (or every tenant's, the admin key's) in the region it signed for. */
export const networkScope = { tenant_id: TenantScope, region: Region };
/** What a create makes: the tenant that owns it, in the region the request signed for. */
export const networkOwner = { tenant_id: TenantId, region: Region };

/** One filter: its name and the values (with * and ? wildcards) of which any may match. */
export const NetworkFilter = z.object({
  name: z.string().min(1).max(200),
  values: z.array(z.string().max(256)).min(1).max(200),
});
export type NetworkFilter = z.infer<typeof NetworkFilter>;

/** A describe's request: ids (each must exist), filters, and a page of `limit` after `cursor`. */
export const describeRequest = z.object({
  ...networkScope,
  ids: z.array(NetworkId).min(1).max(MAX_NETWORK_IDS).optional(),
  filters: z.array(NetworkFilter).max(50).default([]),
  limit: z.number().int().min(1).max(MAX_NETWORK_PAGE),
  cursor: NetworkId.optional(),
});

export const page = <T extends z.ZodType>(item: T) =>
  z.object({ items: z.array(item), next_cursor: z.string().nullable() });

export const Tags = Ec2Tags;

/**
 * Why ipam refused, in `details.reason` of its errors: the EC2 face names each with its EC2 code
 * (services/gateway/src/ec2/errors.ts).
 */
export const networkErrorReasons = [
  "vpc_not_found",
  "subnet_not_found",
  "group_not_found",
  "allocation_not_found",
  "association_not_found",
  "address_not_found",
  "permission_not_found",
  "vpc_range",
  "subnet_range",
  "subnet_conflict",
  "group_duplicate",
  "group_reserved",
  "permission_duplicate",
  "rules_per_group",
  "dependency_violation",
  "default_vpc",
  "cannot_delete",
  "address_in_use",
  "already_associated",
  "address_limit",
  "group_vpc_mismatch",
  "group_malformed",
] as const;
export type NetworkErrorReason = (typeof networkErrorReasons)[number];

/** Tags of VPCs, subnets, security groups and Elastic IPs (the EC2 face's CreateTags, DeleteTags, DescribeTags). */
export const networkTags = {
  tag: defineCommand("ipam", "tag_resources", { request: RetagRequest, reply: RetagReply }),
  describe: defineCommand("ipam", "describe_tags", { request: TagListRequest, reply: TagListReply }),
};
