import { type Bus, type Registry, readiness } from "@cloudsim/shared";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";

/**
 * Liveness, readiness (NATS answers, and the gateway is not shutting down: `draining`) and
 * Prometheus metrics; kept out of the API docs.
 */
export const healthRoutes =
  (bus: Bus, registry: Registry, draining: () => boolean): FastifyPluginAsyncZod =>
  async (app) => {
    const hide = { schema: { hide: true } };
    app.get("/healthz", hide, async () => ({ status: "ok" }));
    app.get("/readyz", hide, async (_request, reply) => {
      const result = draining()
        ? { ready: false, checks: { shutdown: "draining" } }
        : await readiness([{ name: "nats", check: () => bus.ping() }]);
      return reply.code(result.ready ? 200 : 503).send(result);
    });
    app.get("/metrics", hide, async (_request, reply) =>
      reply.type(registry.contentType).send(await registry.metrics()),
    );
  };
