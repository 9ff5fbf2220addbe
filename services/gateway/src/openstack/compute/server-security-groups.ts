import { type SecurityGroupRule, securityGroups } from "@cloudsim/shared";
import type { FastifyInstance } from "fastify";
import { hiddenRoute } from "../context.ts";
import { busContext, type ComputeEndpoint, ownerOf, scopeOf } from "./context.ts";
import { serverOf } from "./server-commands.ts";

/** A rule as Nova's security group proxy shows it (ingress only, as nova-network had). */
const novaRule = (rule: SecurityGroupRule) => ({
  id: rule.rule_id,
  parent_group_id: rule.group_id,
  ip_protocol: rule.protocol === "-1" ? null : rule.protocol,
  from_port: rule.from_port,
  to_port: rule.to_port,
  ip_range: rule.cidr_ipv4 ? { cidr: rule.cidr_ipv4 } : {},
  group: rule.referenced_group_id ? { tenant_id: null, name: rule.referenced_group_id } : {},
});

/** GET /servers/{id}/os-security-groups: the groups of the server's port, from ipam. */
export function serverSecurityGroupRoutes(app: FastifyInstance, endpoint: ComputeEndpoint) {
  app.get<{ Params: { id: string } }>(
    "/v2.1/servers/:id/os-security-groups",
    hiddenRoute,
    async (request) => {
      const server = await serverOf(endpoint, request, request.params.id);
      const ids = server.security_groups.map((g) => g.id);
      if (ids.length === 0) return { security_groups: [] };
      const page = await endpoint.bus.request(
        securityGroups.describe,
        { tenant_id: scopeOf(request), region: endpoint.region, ids, limit: ids.length },
        busContext(request),
      );
      return {
        security_groups: page.items.map((group) => ({
          id: group.group_id,
          name: group.group_name,
          description: group.description,
          tenant_id: ownerOf(request),
          rules: group.rules.filter((r) => !r.is_egress).map(novaRule),
        })),
      };
    },
  );
}
