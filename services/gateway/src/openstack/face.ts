import { type Bus, type Region, regions } from "@cloudsim/shared";
import type { FastifyInstance, FastifyReply } from "fastify";
import type { Caller } from "../auth.ts";
import { type OsAuthConfig, openstackAuthenticator } from "./caller.ts";
import type { ComputeConfig } from "./compute/context.ts";
import { computeRoutes } from "./compute/routes.ts";
import { identityRoutes } from "./identity.ts";
import { imageRoutes } from "./image-routes.ts";
import { networkApiRoutes } from "./network/routes.ts";

/** The region of the compute endpoint without a region in its path (/compute/v2.1). */
export const DEFAULT_COMPUTE_REGION: Region = "us-east-1";

const prefixes = ["/identity", "/compute", "/image", "/network"];

/** Whether a request is for the OpenStack face, which authenticates its own (X-Auth-Token). */
export const isOpenStackPath = (url: string) =>
  prefixes.some((p) => url === p || url.startsWith(`${p}/`) || url.startsWith(`${p}?`));

/**
 * The OpenStack face: Identity v3 at /identity, Compute v2.1 at /compute/<region>/v2.1 (and
 * /compute/v2.1 for us-east-1), Image v2 at /image, Network v2.0 at /network/<region>. It speaks to the same NATS contracts as the
 * REST routes and the EC2 face, so a server is one server whichever API made it. `limit` is the
 * REST API's per-key rate limit.
 */
export function openstackFace(
  bus: Bus,
  config: OsAuthConfig & ComputeConfig,
  limit: (caller: Caller, reply: FastifyReply) => void,
) {
  return async (app: FastifyInstance) => {
    const auth = openstackAuthenticator(bus, config);
    app.addHook("onClose", async () => auth.close());
    await app.register(identityRoutes(auth, config.PUBLIC_URL), { prefix: "/identity" });
    await app.register(imageRoutes(bus, auth, limit, config), { prefix: "/image" });
    for (const region of regions)
      await app.register(computeRoutes(bus, auth, limit, config, region, `/compute/${region}`), {
        prefix: `/compute/${region}`,
      });
    await app.register(computeRoutes(bus, auth, limit, config, DEFAULT_COMPUTE_REGION, "/compute"), {
      prefix: "/compute",
    });
    for (const region of regions)
      await app.register(networkApiRoutes(bus, auth, limit, config, region), {
        prefix: `/network/${region}`,
      });
  };
}
