import {
  type Bus,
  elasticIps,
  type HandlerMetrics,
  networkTags,
  securityGroups,
  subnets,
  vpcs,
} from "@cloudsim/shared";
import type { ElasticIpRepository } from "./db/elastic-ips.ts";
import type { NetworkTagRepository } from "./db/network-tags.ts";
import { scopeOf } from "./db/scope.ts";
import type { SecurityGroupRepository } from "./db/security-groups.ts";
import type { SubnetRepository } from "./db/subnets.ts";
import type { VpcRepository } from "./db/vpcs.ts";

/** The most tags a resource holds (EC2's limit). */
const MAX_TAGS = 50;

export interface NetworkRepositories {
  vpcs: VpcRepository;
  subnets: SubnetRepository;
  groups: SecurityGroupRepository;
  addresses: ElasticIpRepository;
  tags: NetworkTagRepository;
}

/** The EC2 face's networking: VPCs, subnets, security groups, Elastic IPs and their tags. */
export function serveNetwork(bus: Bus, repos: NetworkRepositories, metrics: HandlerMetrics) {
  bus.serve(vpcs.create, (request) => repos.vpcs.create(request), metrics);
  bus.serve(vpcs.describe, (request) => repos.vpcs.describe(scopeOf(request), request), metrics);
  bus.serve(
    vpcs.delete,
    async (request) => {
      await repos.vpcs.delete(scopeOf(request), request.vpc_id);
      return { vpc_id: request.vpc_id };
    },
    metrics,
  );
  bus.serve(vpcs.modify, (request) => repos.vpcs.modify(scopeOf(request), request.vpc_id, request), metrics);

  bus.serve(subnets.create, (request) => repos.subnets.create(request), metrics);
  bus.serve(subnets.describe, (request) => repos.subnets.describe(scopeOf(request), request), metrics);
  bus.serve(
    subnets.delete,
    async (request) => {
      await repos.subnets.delete(scopeOf(request), request.subnet_id);
      return { subnet_id: request.subnet_id };
    },
    metrics,
  );
  bus.serve(
    subnets.modify,
    (request) => repos.subnets.modify(scopeOf(request), request.subnet_id, request.map_public_ip_on_launch),
    metrics,
  );
  bus.serve(subnets.placement, (request) => repos.subnets.placement(request), metrics);

  bus.serve(
    securityGroups.create,
    async (request) => {
      const scope = { tenantId: request.tenant_id, region: request.region };
      const vpcId = request.vpc_id ?? (await repos.vpcs.defaultOf(request.region));
      await repos.vpcs.resolve(scope, [vpcId]);
      return { group_id: await repos.groups.create(request, vpcId) };
    },
    metrics,
  );
  bus.serve(securityGroups.describe, (request) => repos.groups.describe(scopeOf(request), request), metrics);
  bus.serve(
    securityGroups.delete,
    async (request) => ({ group_id: await repos.groups.delete(scopeOf(request), request) }),
    metrics,
  );
  bus.serve(
    securityGroups.authorize,
    (request) => repos.groups.authorize(scopeOf(request), request.group_id, request.is_egress, request.rules),
    metrics,
  );
  bus.serve(
    securityGroups.revoke,
    async (request) => ({
      revoked: await repos.groups.revoke(
        scopeOf(request),
        request.group_id,
        request.is_egress,
        request.rules,
      ),
    }),
    metrics,
  );

  bus.serve(elasticIps.allocate, (request) => repos.addresses.allocate(request), metrics);
  bus.serve(elasticIps.describe, (request) => repos.addresses.describe(scopeOf(request), request), metrics);
  bus.serve(
    elasticIps.associate,
    async (request) => ({ association_id: await repos.addresses.associate(scopeOf(request), request) }),
    metrics,
  );
  bus.serve(
    elasticIps.disassociate,
    async (request) => ({ allocation_id: await repos.addresses.disassociate(scopeOf(request), request) }),
    metrics,
  );
  bus.serve(
    elasticIps.release,
    async (request) => ({ allocation_id: await repos.addresses.release(scopeOf(request), request) }),
    metrics,
  );
  bus.serve(
    elasticIps.ofServers,
    async (request) => ({ items: await repos.addresses.ofServers(scopeOf(request), request.server_ids) }),
    metrics,
  );

  bus.serve(
    networkTags.tag,
    async (request) => ({ count: await repos.tags.retag(scopeOf(request), request, MAX_TAGS) }),
    metrics,
  );
  bus.serve(networkTags.describe, (request) => repos.tags.describe(scopeOf(request), request), metrics);
}
