import type { Bus, Region } from "@cloudsim/shared";
import type { FastifyInstance, FastifyReply } from "fastify";
import type { Caller } from "../../auth.ts";
import type { OpenStackAuthenticator } from "../caller.ts";
import { novaFault } from "../errors.ts";
import { microversionHeaders, microversionOf } from "../microversion.ts";
import { installOsReplies, retryAfterHeader } from "../replies.ts";
import { availabilityZoneRoutes } from "./availability-zones.ts";
import { type ComputeConfig, type ComputeEndpoint, rememberRequest } from "./context.ts";
import { flavorRoutes } from "./flavors.ts";
import { instanceActionRoutes } from "./instance-actions.ts";
import { keypairRoutes } from "./keypairs.ts";
import { limitRoutes } from "./limits.ts";
import { serverActionRoutes } from "./server-actions.ts";
import { serverCreateRoutes } from "./server-create.ts";
import { serverMetadataRoutes } from "./server-metadata.ts";
import { serverReadRoutes } from "./server-reads.ts";
import { serverSecurityGroupRoutes } from "./server-security-groups.ts";
import { serverTagRoutes } from "./server-tags.ts";
import { serverUpdateRoutes } from "./server-update.ts";
import { isVersionRoute, versionRoutes } from "./versions.ts";

/** Every request but a version document: its microversion, its caller (authenticated), the rate limit. */
function authenticateRequests(
  app: FastifyInstance,
  endpoint: ComputeEndpoint,
  auth: OpenStackAuthenticator,
  limit: (caller: Caller, reply: FastifyReply) => void,
) {
  const isVersion = isVersionRoute(endpoint);
  app.addHook("onRequest", async (request, reply) => {
    if (isVersion(request.routeOptions.url)) return;
    const minor = microversionOf(request.headers);
    reply.headers(microversionHeaders(minor));
    const { caller } = await auth.authenticate(request);
    request.caller = caller;
    limit(caller, reply);
    rememberRequest(request, { caller, minor });
  });
}

/**
 * Compute v2.1 (Nova) for one region, under `prefix` (/compute/<region>, and /compute for the
 * default region): the servers of that region, on the same lifecycle commands as the REST routes.
 */
export function computeRoutes(
  bus: Bus,
  auth: OpenStackAuthenticator,
  limit: (caller: Caller, reply: FastifyReply) => void,
  config: ComputeConfig,
  region: Region,
  prefix: string,
) {
  const endpoint: ComputeEndpoint = { bus, config, region, prefix };
  return async (app: FastifyInstance) => {
    installOsReplies(app, {
      service: "compute",
      errorBody: novaFault,
      errorHeaders: retryAfterHeader,
      requestIdHeaders: ["x-openstack-request-id", "x-compute-request-id"],
    });
    authenticateRequests(app, endpoint, auth, limit);
    for (const routes of [
      versionRoutes,
      serverReadRoutes,
      serverCreateRoutes,
      serverActionRoutes,
      instanceActionRoutes,
      flavorRoutes,
      availabilityZoneRoutes,
      keypairRoutes,
      limitRoutes,
      serverMetadataRoutes,
      serverSecurityGroupRoutes,
      serverTagRoutes,
      serverUpdateRoutes,
    ])
      routes(app, endpoint);
  };
}
