import { MAX_KEY_PAIRS, MAX_SERVER_TAGS, tenants } from "@cloudsim/shared";
import type { FastifyInstance } from "fastify";
import { hiddenRoute } from "../context.ts";
import { busContext, type ComputeEndpoint, minorOf, ownerOf } from "./context.ts";

/**
 * Nova's absolute limits from the tenant's quotas (max_servers, max_vcpus) and what its servers
 * use now. cloudsim has no RAM quota (-1, as Nova says unlimited), takes no personality files and
 * has no server groups (0); the network limits, which Nova drops at 2.36, are Nova's own quota
 * table's, never used with Neutron (-1 and 0 used).
 */
export function limitRoutes(app: FastifyInstance, endpoint: ComputeEndpoint) {
  app.get("/v2.1/limits", hiddenRoute, async (request) => {
    const usage = await endpoint.bus.request(tenants.usage, { id: ownerOf(request) }, busContext(request));
    const minor = minorOf(request);
    return {
      limits: {
        rate: [],
        absolute: {
          maxTotalInstances: usage.tenant.max_servers,
          totalInstancesUsed: usage.servers_in_use,
          maxTotalCores: usage.tenant.max_vcpus,
          totalCoresUsed: usage.vcpus_in_use,
          maxTotalRAMSize: -1,
          totalRAMUsed: usage.memory_mib_in_use,
          maxTotalKeypairs: MAX_KEY_PAIRS,
          maxServerMeta: MAX_SERVER_TAGS,
          ...(minor < 39 && { maxImageMeta: MAX_SERVER_TAGS }),
          maxPersonality: 0,
          maxPersonalitySize: 0,
          maxServerGroups: 0,
          maxServerGroupMembers: 0,
          totalServerGroupsUsed: 0,
          ...(minor < 36 && {
            maxSecurityGroups: -1,
            maxSecurityGroupRules: -1,
            maxTotalFloatingIps: -1,
            totalSecurityGroupsUsed: 0,
            totalFloatingIpsUsed: 0,
          }),
        },
      },
    };
  });
}
