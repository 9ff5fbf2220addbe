import { MAX_KEY_PAIRS, MAX_SERVER_TAGS, tenants } from "@cloudsim/shared";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { hiddenRoute } from "../context.ts";
import { forbidden } from "../errors.ts";
import { busContext, type ComputeEndpoint, minorOf, ownerOf, stateOf } from "./context.ts";

/** A tenant's quotas and what its servers use now (lifecycle's tenant usage). */
type Usage = Awaited<ReturnType<typeof usageOf>>;

const usageOf = (endpoint: ComputeEndpoint, request: FastifyRequest, tenantId: string) =>
  endpoint.bus.request(tenants.usage, { id: tenantId }, busContext(request));

/**
 * Nova's quotas from the tenant's (max_servers, max_vcpus), each with what is in use. cloudsim has
 * no RAM quota (-1, as Nova says unlimited), takes no personality files and has no server groups
 * (0); the network quotas, which Nova drops at 2.36, are Nova's own quota table's, never used with
 * Neutron (-1 and 0 used).
 */
function quotasOf(usage: Usage, minor: number): Record<string, { limit: number; in_use: number }> {
  const unused = (limit: number) => ({ limit, in_use: 0 });
  return {
    instances: { limit: usage.tenant.max_servers, in_use: usage.servers_in_use },
    cores: { limit: usage.tenant.max_vcpus, in_use: usage.vcpus_in_use },
    ram: { limit: -1, in_use: usage.memory_mib_in_use },
    key_pairs: unused(MAX_KEY_PAIRS),
    metadata_items: unused(MAX_SERVER_TAGS),
    server_groups: unused(0),
    server_group_members: unused(0),
    ...(minor < 57 && {
      injected_files: unused(0),
      injected_file_content_bytes: unused(0),
      injected_file_path_bytes: unused(0),
    }),
    ...(minor < 36 && {
      floating_ips: unused(-1),
      fixed_ips: unused(-1),
      security_groups: unused(-1),
      security_group_rules: unused(-1),
    }),
  };
}

/** GET /limits: Nova's absolute limits, the quotas and their use under Nova's older names. */
function absoluteLimits(usage: Usage, minor: number) {
  return {
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
  };
}

/** The usage of the project a quota-set route names: the caller's own (the admin key: any). */
async function projectUsage(endpoint: ComputeEndpoint, request: FastifyRequest<{ Params: { id: string } }>) {
  const { id } = request.params;
  if (!stateOf(request).caller.admin && id !== ownerOf(request)) throw forbidden();
  return usageOf(endpoint, request, id);
}

/** GET /limits, and GET /os-quota-sets/{project} (and /detail, each quota with its use); no updates. */
export function limitRoutes(app: FastifyInstance, endpoint: ComputeEndpoint) {
  app.get("/v2.1/limits", hiddenRoute, async (request) => ({
    limits: {
      rate: [],
      absolute: absoluteLimits(await usageOf(endpoint, request, ownerOf(request)), minorOf(request)),
    },
  }));

  app.get<{ Params: { id: string } }>("/v2.1/os-quota-sets/:id", hiddenRoute, async (request) => {
    const quotas = quotasOf(await projectUsage(endpoint, request), minorOf(request));
    const limits = Object.entries(quotas).map(([name, quota]) => [name, quota.limit]);
    return { quota_set: { id: request.params.id, ...Object.fromEntries(limits) } };
  });

  app.get<{ Params: { id: string } }>("/v2.1/os-quota-sets/:id/detail", hiddenRoute, async (request) => {
    const quotas = quotasOf(await projectUsage(endpoint, request), minorOf(request));
    const detailed = Object.entries(quotas).map(([name, quota]) => [name, { ...quota, reserved: 0 }]);
    return { quota_set: { id: request.params.id, ...Object.fromEntries(detailed) } };
  });
}
