import { type Bus, instances } from "@cloudsim/shared";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { Problem } from "../errors.ts";

export const imageRoutes =
  (bus: Bus): FastifyPluginAsyncZod =>
  async (app) => {
    app.get(
      "/images",
      {
        schema: {
          tags: ["servers"],
          summary:
            "The machine images a server can be made from (POST /servers' image; EC2's DescribeImages)",
          response: { 200: instances.images.reply, 503: Problem },
        },
      },
      (request) => bus.request(instances.images, {}, { requestId: request.id }),
    );
  };
