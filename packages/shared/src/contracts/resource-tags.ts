import { z } from "zod";
import { Region } from "./catalogue.ts";
import { Ec2Tags, TagRef } from "./instances.ts";
import { TenantScope } from "./tenants.ts";

/**
 * Tags of the EC2 resources lifecycle keeps beside instances (volumes, key pairs): the same
 * requests for each, as CreateTags, DeleteTags and DescribeTags route them by id prefix.
 */

/** What a request sees: its tenant's (or every tenant's, the admin key) resources in its region. */
export const ResourceScope = { tenant_id: TenantScope, region: Region };

const Ids = z.array(z.string().max(100)).min(1).max(1000);
const Pattern = z.string().max(256);

/** Sets and removes tags (a remove with a value only while the tag has it; null: every tag). */
export const RetagRequest = z.object({
  ...ResourceScope,
  ids: Ids,
  set: Ec2Tags.default({}),
  remove: z.array(TagRef).max(50).nullable().default([]),
});
export const RetagReply = z.object({ count: z.number().int() });

/** DescribeTags' filters on a resource's tags (resource-type is the gateway's: it picks the service). */
export const TagListRequest = z.object({
  ...ResourceScope,
  filters: z
    .array(
      z.object({
        name: z.union([z.enum(["key", "value", "resource-id"]), z.string().regex(/^tag:.{1,128}$/s)]),
        values: z.array(Pattern).min(1).max(200),
      }),
    )
    .max(50)
    .default([]),
  limit: z.number().int().min(1).max(1000),
  cursor: z.string().max(400).optional(),
});
export const TagListReply = z.object({
  items: z.array(z.object({ resource_id: z.string(), key: z.string(), value: z.string() })),
  next_cursor: z.string().nullable(),
});
