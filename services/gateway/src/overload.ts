import { AppError } from "@cloudsim/shared";
import type { FastifyInstance, FastifyRequest } from "fastify";

const unguarded = new Set(["/healthz", "/readyz", "/metrics"]);

declare module "fastify" {
  interface FastifyInstance {
    /** The API requests being handled now (health and metrics not counted). */
    requestsInHand(): number;
  }
}

/**
 * At most `limit` HTTP requests in hand at once: past it a request is answered 503 with
 * Retry-After at once, so overload ends in refusals rather than in a heap that grows without end.
 */
export function installOverloadGuard(app: FastifyInstance, limit: number) {
  const inHand = new Set<FastifyRequest>();
  app.decorate("requestsInHand", () => inHand.size);
  app.addHook("onRequest", async (request) => {
    // Health and metrics answer even under overload: an orchestrator must not kill a busy gateway.
    if (unguarded.has(request.url)) return;
    if (inHand.size >= limit) {
      throw new AppError(
        "UNAVAILABLE",
        `the gateway is handling ${limit} requests (MAX_IN_FLIGHT): try again shortly`,
        {
          reason: "overloaded",
          limit,
        },
      );
    }
    inHand.add(request);
  });
  // A request ends in one of these (or both, for one aborted late); a refused one was never counted.
  const done = async (request: FastifyRequest) => {
    inHand.delete(request);
  };
  app.addHook("onResponse", done);
  app.addHook("onRequestAbort", done);
}
