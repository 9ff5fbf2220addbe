import {
  MAX_NETWORK_PAGE,
  type SecurityGroup,
  type SecurityGroupRule,
  securityGroups,
  vpcs,
} from "@cloudsim/shared";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { busContext, type ComputeEndpoint, ownerOf } from "../compute/context.ts";
import { hiddenRoute } from "../context.ts";
import { cursorPages } from "../paging.ts";
import { parseBody, RuleCreate, SecurityGroupCreate } from "./bodies.ts";
import { NeutronError } from "./errors.ts";
import { describeOne, filtersOf, listBody, networkScopeOf, pageOf } from "./listing.ts";
import { ruleSpecOf } from "./rules.ts";
import { ruleBody, securityGroupBody } from "./views.ts";

/** Describe pages read to find a rule by its id, at most (MAX_NETWORK_PAGE groups each). */
const MAX_GROUP_PAGES = 5;

const groupFilters = { id: "group-id", name: "group-name", description: "description" };

const ruleNotFound = (id: string) =>
  new NeutronError(404, "SecurityGroupRuleNotFound", `Security group rule ${id} does not exist`);

/**
 * The region's default VPC, where a group made through Neutron goes (EC2's groups each belong to
 * one VPC; Neutron's to the project). Of the VPCs' own default groups only its is listed, as
 * Neutron has one "default" per project.
 */
async function defaultVpcIdOf(endpoint: ComputeEndpoint, request: FastifyRequest) {
  const page = await endpoint.bus.request(
    vpcs.describe,
    { ...networkScopeOf(endpoint, request), filters: [{ name: "is-default", values: ["true"] }], limit: 1 },
    busContext(request),
  );
  return page.items[0]?.vpc_id;
}

const groupOf = async (endpoint: ComputeEndpoint, request: FastifyRequest, id: string) =>
  (await describeOne(endpoint, request, securityGroups.describe, id)) as SecurityGroup;

/** Every rule of the caller's groups, in rule id order, from a bounded number of describe pages. */
async function allRules(endpoint: ComputeEndpoint, request: FastifyRequest, groupIds?: string[]) {
  const read = (cursor: string | undefined) =>
    endpoint.bus.request(
      securityGroups.describe,
      { ...networkScopeOf(endpoint, request), ids: groupIds, limit: MAX_NETWORK_PAGE, cursor },
      busContext(request),
    );
  const rules: SecurityGroupRule[] = [];
  for await (const page of cursorPages(read, MAX_GROUP_PAGES)) rules.push(...page.flatMap((g) => g.rules));
  return rules.sort((a, b) => (a.rule_id < b.rule_id ? -1 : 1));
}

async function ruleOf(endpoint: ComputeEndpoint, request: FastifyRequest, id: string) {
  const rule = (await allRules(endpoint, request)).find((r) => r.rule_id === id);
  if (!rule) throw ruleNotFound(id);
  return rule;
}

/** A page of rules by rule id after `marker`, filtered on the fields the query names. */
function rulesPage(
  rules: SecurityGroupRule[],
  wanted: Record<string, string[]>,
  page: { limit: number; cursor?: string | undefined },
  tenant: string,
) {
  const bodies = rules
    .filter((r) => page.cursor === undefined || r.rule_id > page.cursor)
    .map((r) => ruleBody(r, tenant))
    .filter((body) =>
      Object.entries(wanted).every(([field, values]) =>
        values.includes(String(body[field as keyof typeof body] ?? "")),
      ),
    );
  const items = bodies.slice(0, page.limit);
  const more = bodies.length > page.limit;
  return { items, next_cursor: more ? (items.at(-1)?.id ?? null) : null };
}

/** /v2.0/security-groups and /v2.0/security-group-rules, on ipam's (EC2's) security groups. */
export function securityGroupRoutes(app: FastifyInstance, endpoint: ComputeEndpoint) {
  app.get("/v2.0/security-groups", hiddenRoute, async (request) => {
    const query = filtersOf(request, groupFilters);
    if (!query) return { security_groups: [] };
    const page = await endpoint.bus.request(
      securityGroups.describe,
      { ...networkScopeOf(endpoint, request), filters: query.filters, ...pageOf(endpoint, request) },
      busContext(request),
    );
    const defaultVpc = await defaultVpcIdOf(endpoint, request);
    const items = page.items
      .filter((g) => !g.is_default || g.vpc_id === defaultVpc)
      .map((g) => securityGroupBody(g, ownerOf(request)));
    return listBody(endpoint, request, "security_groups", { items, next_cursor: page.next_cursor });
  });

  app.get<{ Params: { id: string } }>("/v2.0/security-groups/:id", hiddenRoute, async (request) => ({
    security_group: securityGroupBody(await groupOf(endpoint, request, request.params.id), ownerOf(request)),
  }));

  app.post("/v2.0/security-groups", hiddenRoute, async (request, reply) => {
    const { security_group: body } = parseBody(SecurityGroupCreate, request.body);
    const { group_id } = await endpoint.bus.request(
      securityGroups.create,
      {
        tenant_id: ownerOf(request),
        region: endpoint.region,
        group_name: body.name,
        description: body.description ?? "",
      },
      busContext(request),
    );
    return reply.code(201).send({
      security_group: securityGroupBody(await groupOf(endpoint, request, group_id), ownerOf(request)),
    });
  });

  app.delete<{ Params: { id: string } }>("/v2.0/security-groups/:id", hiddenRoute, async (request, reply) => {
    await endpoint.bus.request(
      securityGroups.delete,
      { ...networkScopeOf(endpoint, request), group_id: request.params.id },
      busContext(request),
    );
    return reply.code(204).send();
  });

  app.get("/v2.0/security-group-rules", hiddenRoute, async (request) => {
    const query = filtersOf(request, {
      id: "",
      security_group_id: "",
      direction: "",
      ethertype: "",
      protocol: "",
      remote_group_id: "",
      remote_ip_prefix: "",
    });
    if (!query) return { security_group_rules: [] };
    const rules = await allRules(endpoint, request, query.wanted.security_group_id);
    const page = rulesPage(rules, query.wanted, pageOf(endpoint, request), ownerOf(request));
    return listBody(endpoint, request, "security_group_rules", page);
  });

  app.get<{ Params: { id: string } }>("/v2.0/security-group-rules/:id", hiddenRoute, async (request) => ({
    security_group_rule: ruleBody(await ruleOf(endpoint, request, request.params.id), ownerOf(request)),
  }));

  app.post("/v2.0/security-group-rules", hiddenRoute, async (request, reply) => {
    const { security_group_rule: body } = parseBody(RuleCreate, request.body);
    const { rules } = await endpoint.bus.request(
      securityGroups.authorize,
      {
        ...networkScopeOf(endpoint, request),
        group_id: body.security_group_id,
        is_egress: body.direction === "egress",
        rules: [ruleSpecOf(body)],
      },
      busContext(request),
    );
    const [made] = rules;
    if (!made) throw new NeutronError(500, "HTTPInternalServerError", "ipam made no rule");
    return reply.code(201).send({ security_group_rule: ruleBody(made, ownerOf(request)) });
  });

  app.delete<{ Params: { id: string } }>(
    "/v2.0/security-group-rules/:id",
    hiddenRoute,
    async (request, reply) => {
      const rule = await ruleOf(endpoint, request, request.params.id);
      await endpoint.bus.request(
        securityGroups.revoke,
        {
          ...networkScopeOf(endpoint, request),
          group_id: rule.group_id,
          is_egress: rule.is_egress,
          rules: [rule],
        },
        busContext(request),
      );
      return reply.code(204).send();
    },
  );
}
