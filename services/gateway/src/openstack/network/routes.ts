import { type Bus, type Region, zonesOf } from "@cloudsim/shared";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Caller } from "../../auth.ts";
import type { OpenStackAuthenticator } from "../caller.ts";
import { type ComputeConfig, type ComputeEndpoint, rememberRequest } from "../compute/context.ts";
import { hiddenRoute, publicBase } from "../context.ts";
import { installOsReplies, retryAfterHeader } from "../replies.ts";
import { NeutronError, neutronErrorOf, neutronFault } from "./errors.ts";
import { floatingIpRoutes } from "./floating-ips.ts";
import { networkRoutes } from "./networks.ts";
import { portRoutes } from "./ports.ts";
import { securityGroupRoutes } from "./security-groups.ts";
import { subnetRoutes } from "./subnets.ts";

/** The Neutron extensions the face has: what clients look for before they use a feature. */
const EXTENSIONS = [
  ["security-group", "security-group", "The security groups extension."],
  ["external-net", "Neutron external network", "Adds external network attribute to network resource."],
  [
    "standard-attr-description",
    "standard-attr-description",
    "Extension to add descriptions to standard attributes",
  ],
  ["availability_zone", "Availability Zone", "The availability zone extension."],
] as const;

const VERSION_PATHS = ["", "/", "/v2.0", "/v2.0/"];

function versionDocument(endpoint: ComputeEndpoint, request: FastifyRequest) {
  const href = `${publicBase(request, endpoint.config.PUBLIC_URL)}${endpoint.prefix}/v2.0/`;
  return { id: "v2.0", status: "CURRENT", links: [{ rel: "self", href }] };
}

function versionRoutes(app: FastifyInstance, endpoint: ComputeEndpoint) {
  app.get("/", hiddenRoute, async (request) => ({ versions: [versionDocument(endpoint, request)] }));
  const resources = async () => ({
    resources: ["network", "subnet", "port", "security_group", "security_group_rule", "floatingip"].map(
      (name) => ({ name, collection: `${name}s`, links: [] }),
    ),
  });
  app.get("/v2.0", hiddenRoute, resources);
  app.get("/v2.0/", hiddenRoute, resources);
  const extensions = EXTENSIONS.map(([alias, name, description]) => ({
    alias,
    name,
    description,
    updated: "2013-01-01T10:00:00-00:00",
    links: [],
  }));
  app.get("/v2.0/extensions", hiddenRoute, async () => ({ extensions }));
  app.get<{ Params: { alias: string } }>("/v2.0/extensions/:alias", hiddenRoute, async (request) => {
    const extension = extensions.find((e) => e.alias === request.params.alias);
    if (!extension)
      throw new NeutronError(
        404,
        "NotFound",
        `Extension with alias ${request.params.alias.slice(0, 100)} does not exist`,
      );
    return { extension };
  });
}

/** The region's zones, as Neutron's availability zones of its networks (and routers, none here). */
function availabilityZoneRoutes(app: FastifyInstance, endpoint: ComputeEndpoint) {
  app.get("/v2.0/availability_zones", hiddenRoute, async () => ({
    availability_zones: zonesOf(endpoint.region).map((name) => ({
      name,
      resource: "network",
      state: "available",
    })),
  }));
}

/**
 * Network v2.0 (Neutron) for one region, under /network/<region>: networks are ipam's VPCs,
 * subnets its subnets, ports the servers' interfaces, security groups and floating IPs its
 * security groups and Elastic IPs, so EC2 and OpenStack see one network.
 */
export function networkApiRoutes(
  bus: Bus,
  auth: OpenStackAuthenticator,
  limit: (caller: Caller, reply: FastifyReply) => void,
  config: ComputeConfig,
  region: Region,
) {
  const endpoint: ComputeEndpoint = { bus, config, region, prefix: `/network/${region}` };
  const versions = new Set(VERSION_PATHS.map((path) => endpoint.prefix + path));
  return async (app: FastifyInstance) => {
    installOsReplies(app, {
      service: "network",
      errorBody: neutronFault,
      errorHeaders: retryAfterHeader,
      requestIdHeaders: ["x-openstack-request-id"],
      errorOf: neutronErrorOf,
    });
    app.addHook("onRequest", async (request, reply) => {
      if (versions.has(request.routeOptions.url ?? "")) return;
      const { caller } = await auth.authenticate(request);
      request.caller = caller;
      limit(caller, reply);
      rememberRequest(request, { caller, minor: 0 });
    });
    for (const routes of [
      versionRoutes,
      networkRoutes,
      subnetRoutes,
      portRoutes,
      securityGroupRoutes,
      floatingIpRoutes,
      availabilityZoneRoutes,
    ])
      routes(app, endpoint);
  };
}
