import { AdvanceClockBody, type Bus, ClockAdvanced, ClockNow, clock, envBoolean } from "@cloudsim/shared";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { requireAdmin } from "../auth.ts";
import { Problem } from "../errors.ts";

const AdvanceQuery = z.object({
  wait: envBoolean(true)
    .optional()
    .describe("false: answer as soon as the clock moved, without waiting for what fell due"),
});

/** The clock of simulated things: anyone may read it, the admin may move it (CLOCK=simulated). */
export const clockRoutes =
  (bus: Bus, advanceTimeoutMs: number): FastifyPluginAsyncZod =>
  async (app) => {
    app.get(
      "/clock",
      {
        schema: {
          tags: ["clock"],
          summary: "The time of simulated things, and whether it is simulated",
          response: { 200: ClockNow, 503: Problem },
        },
      },
      (request) => bus.request(clock.now, {}, { requestId: request.id }),
    );

    app.post(
      "/admin/clock",
      {
        onRequest: async (request) => requireAdmin(request),
        schema: {
          tags: ["clock", "admin"],
          summary:
            "Move the simulated clock forward; answers once everything due up to the new time has happened",
          body: AdvanceClockBody,
          querystring: AdvanceQuery,
          response: {
            200: ClockAdvanced,
            400: Problem,
            403: Problem,
            409: Problem,
            503: Problem,
            504: Problem,
          },
        },
      },
      (request) =>
        bus.request(
          clock.advance,
          { body: request.body, wait: request.query.wait ?? true },
          { requestId: request.id, timeoutMs: advanceTimeoutMs },
        ),
    );
  };
