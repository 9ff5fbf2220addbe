import { type Bus, ipam } from "@cloudsim/shared";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { Problem } from "../errors.ts";

export const ipamRoutes =
  (bus: Bus): FastifyPluginAsyncZod =>
  async (app) => {
    app.get(
      "/ipam/pools",
      {
        schema: {
          tags: ["ipam"],
          summary: "Address pools per region, with their use",
          response: { 200: ipam.pools.reply, 503: Problem },
        },
      },
      (request) => bus.request(ipam.pools, {}, { requestId: request.id }),
    );
  };
