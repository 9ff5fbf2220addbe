import { AppError, subnets } from "@cloudsim/shared";
import type { FastifyRequest } from "fastify";
import { badRequest, OsError } from "../errors.ts";
import { vpcOf } from "../network/networks.ts";
import { publicNetworkId } from "../network/views.ts";
import type { CreateRequest } from "./bodies.ts";
import { busContext, type ComputeEndpoint, ownerOf, scopeOf } from "./context.ts";

/** The network a create names: none ("auto", "none" or left out) is the default network. */
function networkIdOf(endpoint: ComputeEndpoint, networks: CreateRequest["networks"]): string | undefined {
  if (networks === undefined || typeof networks === "string" || networks.length === 0) return undefined;
  if (networks.length > 1) throw badRequest("cloudsim's servers have one port: give one network.");
  const [network] = networks as Record<string, unknown>[];
  if (network?.port !== undefined)
    throw badRequest("cloudsim makes a server's port with it: give the network's uuid, not a port.");
  if (network?.fixed_ip !== undefined)
    throw badRequest("cloudsim picks a server's fixed IP from its subnet: leave fixed_ip out.");
  const uuid = network?.uuid;
  if (typeof uuid !== "string" || uuid.length === 0 || uuid.length > 64)
    throw badRequest("Invalid input for field/attribute networks. Each network needs a uuid.");
  if (uuid === publicNetworkId(endpoint.region))
    throw badRequest(
      `Network ${uuid} is the public network: floating IPs come from it, servers go on another.`,
    );
  return uuid;
}

/** The subnet of a network a server goes on: the zone's when asked for one, else its first. */
async function subnetOf(
  endpoint: ComputeEndpoint,
  request: FastifyRequest,
  networkId: string,
  zone: string | undefined,
) {
  const vpc = await vpcOf(endpoint, request, networkId).catch((err: unknown) => {
    const missing =
      (err instanceof OsError && err.status === 404) || (err instanceof AppError && err.code === "NOT_FOUND");
    throw missing ? badRequest(`Network ${networkId} could not be found.`) : err;
  });
  if (vpc.is_default) return undefined;
  // One subnet: the zone's when the create names a zone and the network has one there.
  const first = async (zoned: boolean) =>
    (
      await endpoint.bus.request(
        subnets.describe,
        {
          tenant_id: scopeOf(request),
          region: endpoint.region,
          filters: [
            { name: "vpc-id", values: [vpc.vpc_id] },
            ...(zoned && zone ? [{ name: "availability-zone", values: [zone] }] : []),
          ],
          limit: 1,
        },
        busContext(request),
      )
    ).items[0];
  const subnet = (zone !== undefined ? await first(true) : undefined) ?? (await first(false));
  if (!subnet) throw badRequest(`Network ${networkId} requires a subnet in order to boot instances on.`);
  return subnet.subnet_id;
}

/** The groups a create names (Nova takes names, and ids); none is the network's default group. */
function groupsOf(body: CreateRequest) {
  const named = (body.security_groups ?? []).map((g) => g.name);
  return {
    group_ids: named.filter((n) => /^sg-[0-9a-f]{8,17}$/.test(n)),
    group_names: named.filter((n) => !/^sg-[0-9a-f]{8,17}$/.test(n)),
  };
}

/**
 * Where a create's servers go, as ipam places an EC2 launch: the network's subnet (the default
 * network: the zone's default subnet), its zone, and the security groups resolved in its VPC.
 */
export async function placementOf(
  endpoint: ComputeEndpoint,
  request: FastifyRequest,
  body: CreateRequest,
  zone: string | undefined,
) {
  const networkId = networkIdOf(endpoint, body.networks);
  const subnetId = networkId === undefined ? undefined : await subnetOf(endpoint, request, networkId, zone);
  const groups = groupsOf(body);
  if (groups.group_ids.length === 0 && groups.group_names.length === 0) groups.group_names.push("default");
  return endpoint.bus
    .request(
      subnets.placement,
      {
        tenant_id: ownerOf(request),
        region: endpoint.region,
        subnet_id: subnetId,
        availability_zone: zone,
        ...groups,
      },
      busContext(request),
    )
    .catch((err: unknown) => {
      if (err instanceof AppError && err.details.reason === "group_not_found")
        throw badRequest(
          `Security group ${String(err.details.group)} not found for project ${ownerOf(request)}.`,
        );
      throw err;
    });
}
