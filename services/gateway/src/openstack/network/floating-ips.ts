import { type ElasticIp, elasticIps } from "@cloudsim/shared";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { busContext, type ComputeEndpoint, ownerOf } from "../compute/context.ts";
import { hiddenRoute } from "../context.ts";
import { FloatingIpCreate, FloatingIpUpdate, parseBody } from "./bodies.ts";
import { NeutronError, networkNotFound } from "./errors.ts";
import { describeOne, filtersOf, listBody, networkScopeOf, pageOf } from "./listing.ts";
import { instanceOfPort } from "./ports.ts";
import { floatingIpBody, publicNetworkId } from "./views.ts";

/** Neutron's floating IP filters as ipam's Elastic IP filters. */
const floatingIpFilters = {
  id: "allocation-id",
  floating_ip_address: "public-ip",
  port_id: "network-interface-id",
  fixed_ip_address: "private-ip-address",
  floating_network_id: "",
  status: "",
};

const addressOf = async (endpoint: ComputeEndpoint, request: FastifyRequest, id: string) =>
  (await describeOne(endpoint, request, elasticIps.describe, id)) as ElasticIp;

/** Associates the address with the port's server (moving it from another, as Neutron's update does). */
async function associate(
  endpoint: ComputeEndpoint,
  request: FastifyRequest,
  allocationId: string,
  portId: string,
  fixedIp: string | null | undefined,
) {
  const instance = await instanceOfPort(endpoint, request, portId);
  if (fixedIp && fixedIp !== instance.private_ip_address)
    throw new NeutronError(400, "BadRequest", `Port ${portId} does not have fixed ip ${fixedIp}`);
  await endpoint.bus.request(
    elasticIps.associate,
    {
      ...networkScopeOf(endpoint, request),
      allocation_id: allocationId,
      server_id: instance.id,
      instance_id: instance.instance_id,
      network_interface_id: portId,
      private_ip_address: instance.private_ip_address as string,
      allow_reassociation: true,
    },
    busContext(request),
  );
}

async function disassociate(endpoint: ComputeEndpoint, request: FastifyRequest, address: ElasticIp) {
  if (!address.association_id) return;
  await endpoint.bus.request(
    elasticIps.disassociate,
    { ...networkScopeOf(endpoint, request), association_id: address.association_id },
    busContext(request),
  );
}

/** /v2.0/floatingips: ipam's Elastic IPs, from the public network (IPAM_PUBLIC_POOL). */
export function floatingIpRoutes(app: FastifyInstance, endpoint: ComputeEndpoint) {
  const body = (request: FastifyRequest, address: ElasticIp) =>
    floatingIpBody(address, endpoint.region, ownerOf(request));

  app.get("/v2.0/floatingips", hiddenRoute, async (request) => {
    const query = filtersOf(request, floatingIpFilters);
    const network = query?.wanted.floating_network_id;
    if (!query || (network && !network.includes(publicNetworkId(endpoint.region))))
      return { floatingips: [] };
    const page = await endpoint.bus.request(
      elasticIps.describe,
      { ...networkScopeOf(endpoint, request), filters: query.filters, ...pageOf(endpoint, request) },
      busContext(request),
    );
    const status = query.wanted.status;
    const items = page.items.map((a) => body(request, a)).filter((f) => !status || status.includes(f.status));
    return listBody(endpoint, request, "floatingips", { items, next_cursor: page.next_cursor });
  });

  app.get<{ Params: { id: string } }>("/v2.0/floatingips/:id", hiddenRoute, async (request) => ({
    floatingip: body(request, await addressOf(endpoint, request, request.params.id)),
  }));

  app.post("/v2.0/floatingips", hiddenRoute, async (request, reply) => {
    const { floatingip: wanted } = parseBody(FloatingIpCreate, request.body);
    if (wanted.floating_network_id !== publicNetworkId(endpoint.region))
      throw networkNotFound(wanted.floating_network_id);
    if (wanted.floating_ip_address !== undefined)
      throw new NeutronError(
        400,
        "BadRequest",
        "cloudsim picks a floating IP's address: leave floating_ip_address out.",
      );
    const made = await endpoint.bus.request(
      elasticIps.allocate,
      { tenant_id: ownerOf(request), region: endpoint.region },
      busContext(request),
    );
    if (wanted.port_id) {
      try {
        await associate(endpoint, request, made.allocation_id, wanted.port_id, wanted.fixed_ip_address);
      } catch (err) {
        // Neutron makes none when the port cannot take it.
        await endpoint.bus.request(elasticIps.release, {
          ...networkScopeOf(endpoint, request),
          allocation_id: made.allocation_id,
        });
        throw err;
      }
    }
    return reply
      .code(201)
      .send({ floatingip: body(request, await addressOf(endpoint, request, made.allocation_id)) });
  });

  app.put<{ Params: { id: string } }>("/v2.0/floatingips/:id", hiddenRoute, async (request) => {
    const { floatingip: wanted } = parseBody(FloatingIpUpdate, request.body);
    const address = await addressOf(endpoint, request, request.params.id);
    if (wanted.port_id === null) await disassociate(endpoint, request, address);
    else if (wanted.port_id !== address.network_interface_id)
      await associate(endpoint, request, address.allocation_id, wanted.port_id, wanted.fixed_ip_address);
    return { floatingip: body(request, await addressOf(endpoint, request, address.allocation_id)) };
  });

  app.delete<{ Params: { id: string } }>("/v2.0/floatingips/:id", hiddenRoute, async (request, reply) => {
    const address = await addressOf(endpoint, request, request.params.id);
    // Neutron deletes an associated floating IP too.
    await disassociate(endpoint, request, address);
    await endpoint.bus.request(
      elasticIps.release,
      { ...networkScopeOf(endpoint, request), allocation_id: address.allocation_id },
      busContext(request),
    );
    return reply.code(204).send();
  });
}
