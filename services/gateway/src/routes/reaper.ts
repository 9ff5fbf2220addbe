import { type Bus, ReaperStatus, reaper } from "@cloudsim/shared";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { scopeOf } from "../auth.ts";
import { Problem } from "../errors.ts";

export const reaperRoutes =
  (bus: Bus): FastifyPluginAsyncZod =>
  async (app) => {
    app.get(
      "/reaper/status",
      {
        schema: {
          tags: ["reaper"],
          summary: "The idle reaper: its settings, last sweep and totals",
          response: { 200: ReaperStatus, 503: Problem },
        },
      },
      (request) => bus.request(reaper.status, { tenant_id: scopeOf(request) }, { requestId: request.id }),
    );
  };
