import { Counter, Histogram, type Registry } from "@cloudsim/shared";
import type { FastifyInstance } from "fastify";

/** RED metrics per route template (never per raw URL, which would explode the label set). */
export function installHttpMetrics(app: FastifyInstance, registry: Registry) {
  const requests = new Counter({
    name: "cloudsim_http_requests_total",
    help: "HTTP requests answered, by method, route and status",
    labelNames: ["method", "route", "status"],
    registers: [registry],
  });
  const duration = new Histogram({
    name: "cloudsim_http_request_duration_seconds",
    help: "HTTP request duration, by method and route",
    labelNames: ["method", "route"],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  app.addHook("onResponse", async (request, reply) => {
    const route = request.routeOptions.url ?? "(unmatched)";
    requests.inc({ method: request.method, route, status: reply.statusCode });
    duration.observe({ method: request.method, route }, reply.elapsedTime / 1000);
  });
}
