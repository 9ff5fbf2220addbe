import { networkTags, type Subnet, subnets } from "@cloudsim/shared";
import { type Cidr, formatCidr, parseCidr } from "@cloudsim/shared/cidr";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { busContext, type ComputeEndpoint, ownerOf } from "../compute/context.ts";
import { hiddenRoute } from "../context.ts";
import { parseBody, SubnetCreate, SubnetUpdate } from "./bodies.ts";
import { neutronBadRequest } from "./errors.ts";
import { describeOne, filtersOf, listBody, networkScopeOf, pageOf } from "./listing.ts";
import { vpcOf } from "./networks.ts";
import { subnetBody, subnetLayout } from "./views.ts";

/** Neutron's subnet filters as ipam's. */
const subnetFilters = {
  id: "subnet-id",
  name: "tag:Name",
  network_id: "vpc-id",
  cidr: "cidr-block",
  ip_version: "",
};

const subnetOf = async (endpoint: ComputeEndpoint, request: FastifyRequest, id: string) =>
  (await describeOne(endpoint, request, subnets.describe, id)) as Subnet;

/**
 * A gateway or pool the request sets must be the one cloudsim gives every subnet: the block's
 * first address, and all but the four AWS keeps and the broadcast (a block that does not parse is
 * left to ipam, which says why).
 */
function checkLayout(subnet: {
  cidr: string;
  gateway_ip?: string | null | undefined;
  allocation_pools?: unknown[] | undefined;
}) {
  let block: Cidr;
  try {
    block = parseCidr(subnet.cidr);
  } catch {
    return;
  }
  const layout = subnetLayout(formatCidr(block));
  if (subnet.gateway_ip != null && subnet.gateway_ip !== layout.gateway_ip)
    throw neutronBadRequest(
      `Invalid input for gateway_ip: a subnet's gateway is its block's first address, ${layout.gateway_ip}.`,
    );
  if (
    subnet.allocation_pools &&
    JSON.stringify(subnet.allocation_pools) !== JSON.stringify(layout.allocation_pools)
  )
    throw neutronBadRequest(
      `Invalid input for allocation_pools: a subnet's pool is ${layout.allocation_pools[0]?.start}-${layout.allocation_pools[0]?.end}.`,
    );
}

/** /v2.0/subnets: ipam's subnets of the networks (VPCs) the caller sees, each an address pool. */
export function subnetRoutes(app: FastifyInstance, endpoint: ComputeEndpoint) {
  app.get("/v2.0/subnets", hiddenRoute, async (request) => {
    const query = filtersOf(request, subnetFilters);
    if (!query || (query.wanted.ip_version && !query.wanted.ip_version.includes("4"))) return { subnets: [] };
    const page = await endpoint.bus.request(
      subnets.describe,
      { ...networkScopeOf(endpoint, request), filters: query.filters, ...pageOf(endpoint, request) },
      busContext(request),
    );
    const items = page.items.map((s) => subnetBody(s, ownerOf(request)));
    return listBody(endpoint, request, "subnets", { items, next_cursor: page.next_cursor });
  });

  app.get<{ Params: { id: string } }>("/v2.0/subnets/:id", hiddenRoute, async (request) => ({
    subnet: subnetBody(await subnetOf(endpoint, request, request.params.id), ownerOf(request)),
  }));

  app.post("/v2.0/subnets", hiddenRoute, async (request, reply) => {
    const { subnet } = parseBody(SubnetCreate, request.body);
    checkLayout(subnet);
    const vpc = await vpcOf(endpoint, request, subnet.network_id);
    const made = await endpoint.bus.request(
      subnets.create,
      {
        tenant_id: ownerOf(request),
        region: endpoint.region,
        vpc_id: vpc.vpc_id,
        cidr_block: subnet.cidr,
        tags: subnet.name ? { Name: subnet.name } : {},
      },
      busContext(request),
    );
    return reply.code(201).send({ subnet: subnetBody(made, ownerOf(request)) });
  });

  app.put<{ Params: { id: string } }>("/v2.0/subnets/:id", hiddenRoute, async (request) => {
    const { subnet } = parseBody(SubnetUpdate, request.body);
    const { id } = request.params;
    if (subnet.name !== undefined) {
      const change = subnet.name ? { set: { Name: subnet.name } } : { remove: [{ key: "Name" }] };
      await endpoint.bus.request(
        networkTags.tag,
        { ...networkScopeOf(endpoint, request), ids: [id], ...change },
        busContext(request),
      );
    }
    return { subnet: subnetBody(await subnetOf(endpoint, request, id), ownerOf(request)) };
  });

  app.delete<{ Params: { id: string } }>("/v2.0/subnets/:id", hiddenRoute, async (request, reply) => {
    await endpoint.bus.request(
      subnets.delete,
      { ...networkScopeOf(endpoint, request), subnet_id: request.params.id },
      busContext(request),
    );
    return reply.code(204).send();
  });
}
