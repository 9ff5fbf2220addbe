import { AppError, MAX_NETWORK_PAGE, networkTags, subnets, type Vpc, vpcs } from "@cloudsim/shared";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { busContext, type ComputeEndpoint, ownerOf } from "../compute/context.ts";
import { hiddenRoute } from "../context.ts";
import { cursorPages } from "../paging.ts";
import { NetworkCreate, NetworkUpdate, parseBody } from "./bodies.ts";
import { NeutronError, networkNotFound } from "./errors.ts";
import { describeOne, filtersOf, listBody, networkScopeOf, pageOf } from "./listing.ts";
import { networkBody, PUBLIC_NETWORK_NAME, publicNetworkBody, publicNetworkId } from "./views.ts";

/** Describe pages of subnets read for one page of networks, at most (MAX_NETWORK_PAGE subnets each). */
const MAX_SUBNET_PAGES = 5;

/** Neutron's network filters as ipam's VPC filters ("": applied here). */
const networkFilters = { id: "vpc-id", name: "tag:Name", "router:external": "", shared: "" };

/** The subnet ids of each of these VPCs (one describe: a network body lists its subnets). */
async function subnetIdsOf(endpoint: ComputeEndpoint, request: FastifyRequest, vpcIds: string[]) {
  const byVpc = new Map<string, string[]>(vpcIds.map((id) => [id, []]));
  if (vpcIds.length === 0) return byVpc;
  const read = (cursor: string | undefined) =>
    endpoint.bus.request(
      subnets.describe,
      {
        ...networkScopeOf(endpoint, request),
        filters: [{ name: "vpc-id", values: vpcIds }],
        limit: MAX_NETWORK_PAGE,
        cursor,
      },
      busContext(request),
    );
  for await (const page of cursorPages(read, MAX_SUBNET_PAGES))
    for (const subnet of page) byVpc.get(subnet.vpc_id)?.push(subnet.subnet_id);
  return byVpc;
}

/** These VPCs as networks. */
async function networkBodies(endpoint: ComputeEndpoint, request: FastifyRequest, found: Vpc[]) {
  const byVpc = await subnetIdsOf(
    endpoint,
    request,
    found.map((v) => v.vpc_id),
  );
  return found.map((vpc) => networkBody(vpc, byVpc.get(vpc.vpc_id) ?? [], ownerOf(request)));
}

/** The VPC a network id names (404 in Neutron's words for the public network and unknown ids). */
export async function vpcOf(endpoint: ComputeEndpoint, request: FastifyRequest, id: string): Promise<Vpc> {
  if (id === publicNetworkId(endpoint.region)) throw networkNotFound(id);
  const vpc = await describeOne(endpoint, request, vpcs.describe, id);
  if (!vpc) throw networkNotFound(id);
  return vpc;
}

/** Whether the public network passes the list's filters (it is listed first, on the first page). */
function publicListed(wanted: Record<string, string[]>, region: string, first: boolean) {
  const passes = (field: string, value: string) => wanted[field]?.includes(value) ?? true;
  return (
    first &&
    passes("router:external", "true") &&
    passes("shared", "true") &&
    passes("id", publicNetworkId(region)) &&
    passes("name", PUBLIC_NETWORK_NAME)
  );
}

/** /v2.0/networks: the region's VPCs the caller sees, and the public network. */
export function networkRoutes(app: FastifyInstance, endpoint: ComputeEndpoint) {
  app.get("/v2.0/networks", hiddenRoute, async (request) => {
    const query = filtersOf(request, networkFilters);
    const page = pageOf(endpoint, request);
    if (!query) return { networks: [] };
    const externalOnly = query.wanted["router:external"]?.every((v) => v === "true") ?? false;
    const found = externalOnly
      ? { items: [], next_cursor: null }
      : await endpoint.bus.request(
          vpcs.describe,
          { ...networkScopeOf(endpoint, request), filters: query.filters, ...page },
          busContext(request),
        );
    const bodies = await networkBodies(endpoint, request, found.items);
    const vpcsListed = query.wanted.shared?.every((v) => v === "true") ? [] : bodies;
    const listed = publicListed(query.wanted, endpoint.region, page.cursor === undefined)
      ? [publicNetworkBody(endpoint.region, ownerOf(request)), ...vpcsListed]
      : vpcsListed;
    return listBody(endpoint, request, "networks", { items: listed, next_cursor: found.next_cursor });
  });

  app.get<{ Params: { id: string } }>("/v2.0/networks/:id", hiddenRoute, async (request) => {
    const { id } = request.params;
    if (id === publicNetworkId(endpoint.region))
      return { network: publicNetworkBody(endpoint.region, ownerOf(request)) };
    const [network] = await networkBodies(endpoint, request, [await vpcOf(endpoint, request, id)]);
    return { network };
  });

  app.post("/v2.0/networks", hiddenRoute, async (request, reply) => {
    const { network } = parseBody(NetworkCreate, request.body);
    const tags: Record<string, string> = network.name ? { Name: network.name } : {};
    const vpc = await endpoint.bus.request(
      vpcs.create,
      { tenant_id: ownerOf(request), region: endpoint.region, tags },
      busContext(request),
    );
    return reply.code(201).send({ network: networkBody(vpc, [], ownerOf(request)) });
  });

  app.put<{ Params: { id: string } }>("/v2.0/networks/:id", hiddenRoute, async (request) => {
    const { network } = parseBody(NetworkUpdate, request.body);
    const vpc = await vpcOf(endpoint, request, request.params.id);
    if (vpc.is_default && network.name !== undefined)
      throw new NeutronError(
        403,
        "PolicyNotAuthorized",
        "The default network is every project's: it keeps its name.",
      );
    if (network.name !== undefined) {
      const change = network.name ? { set: { Name: network.name } } : { remove: [{ key: "Name" }] };
      await endpoint.bus.request(
        networkTags.tag,
        { ...networkScopeOf(endpoint, request), ids: [vpc.vpc_id], ...change },
        busContext(request),
      );
    }
    const [body] = await networkBodies(endpoint, request, [await vpcOf(endpoint, request, vpc.vpc_id)]);
    return { network: body };
  });

  app.delete<{ Params: { id: string } }>("/v2.0/networks/:id", hiddenRoute, async (request, reply) => {
    const vpc = await vpcOf(endpoint, request, request.params.id);
    // Neutron deletes a network's subnets with it, unless a port still holds an address there.
    for (const subnetId of (await subnetIdsOf(endpoint, request, [vpc.vpc_id])).get(vpc.vpc_id) ?? [])
      await endpoint.bus
        .request(
          subnets.delete,
          { ...networkScopeOf(endpoint, request), subnet_id: subnetId },
          busContext(request),
        )
        .catch((err: unknown) => {
          throw networkInUse(err, vpc.vpc_id);
        });
    await endpoint.bus.request(
      vpcs.delete,
      { ...networkScopeOf(endpoint, request), vpc_id: vpc.vpc_id },
      busContext(request),
    );
    return reply.code(204).send();
  });
}

/** Neutron's NetworkInUse for a subnet ipam would not delete because an address is held. */
function networkInUse(err: unknown, id: string): unknown {
  const reason = err instanceof AppError ? err.details.reason : undefined;
  if (reason !== "dependency_violation" && reason !== "cannot_delete") return err;
  return new NeutronError(
    409,
    "NetworkInUse",
    `Unable to complete operation on network ${id}. There are one or more ports still in use on the network.`,
  );
}
