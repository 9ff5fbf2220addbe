import {
  type Bus,
  type Command,
  elasticIps,
  keyPairs,
  pageLimit,
  Region,
  securityGroups,
  subnets,
  volumes,
  vpcs,
} from "@cloudsim/shared";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { scopeOf } from "../auth.ts";
import { Problem } from "../errors.ts";

/** A describe command of the EC2 world: a page of a tenant's resources in one region. */
type Describe = Command<
  z.ZodType<
    unknown,
    {
      tenant_id: string;
      region: Region;
      limit: number;
      cursor?: string | undefined;
    }
  >,
  z.ZodType
>;

/** The resources the EC2 API makes around instances, listed read-only in the REST API. */
const lists: { path: string; summary: string; describe: Describe; maxPage: number }[] = [
  { path: "/vpcs", summary: "VPCs, the region's default one first", describe: vpcs.describe, maxPage: 100 },
  { path: "/subnets", summary: "Subnets, each an address pool", describe: subnets.describe, maxPage: 100 },
  {
    path: "/security-groups",
    summary: "Security groups with their rules",
    describe: securityGroups.describe,
    maxPage: 100,
  },
  { path: "/addresses", summary: "Elastic IPs", describe: elasticIps.describe, maxPage: 100 },
  { path: "/volumes", summary: "EBS volumes and their attachments", describe: volumes.describe, maxPage: 40 },
  { path: "/key-pairs", summary: "Key pairs (public halves)", describe: keyPairs.describe, maxPage: 40 },
];

/**
 * GET /vpcs, /subnets, /security-groups, /addresses, /volumes, /key-pairs: what the EC2 API made,
 * through the same describe commands, one region at a time (EC2's resources are regional), in
 * pages of `limit` after `cursor`. They are made and changed through the EC2 API.
 */
export const resourceRoutes =
  (bus: Bus): FastifyPluginAsyncZod =>
  async (app) => {
    for (const { path, summary, describe, maxPage } of lists) {
      const querystring = z
        .object({
          region: Region.describe("The region whose resources to list"),
          limit: pageLimit(maxPage),
          cursor: z.string().max(200).optional().describe("next_cursor of the previous page"),
        })
        .strict();
      app.get(
        path,
        {
          schema: {
            tags: ["ec2 resources"],
            summary,
            querystring,
            response: { 200: describe.reply, 400: Problem, 503: Problem },
          },
        },
        (request) => {
          const { region, limit, cursor } = request.query as z.infer<typeof querystring>;
          return bus.request(
            describe,
            { tenant_id: scopeOf(request), region, limit, cursor },
            { requestId: request.id },
          );
        },
      );
    }
  };
