import { Counter, collectDefaultMetrics, Histogram, Registry } from "prom-client";

export { Counter, Gauge, Histogram, Registry } from "prom-client";

/** One registry per service, with the process metrics and the service label on every series. */
export function createRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  // Gauges named like counters, which `promtool check metrics` rejects; nodejs_active_handles,
  // _requests and _resources (by type) say the same.
  for (const name of [
    "nodejs_active_handles_total",
    "nodejs_active_requests_total",
    "nodejs_active_resources_total",
  ])
    registry.removeSingleMetric(name);
  return registry;
}

/** What every NATS endpoint records: how many requests, how they ended, how long they took. */
export function handlerMetrics(registry: Registry) {
  return {
    requests: new Counter({
      name: "cloudsim_nats_requests_total",
      help: "NATS requests handled, by subject and outcome (ok or an error code)",
      labelNames: ["subject", "outcome"],
      registers: [registry],
    }),
    duration: new Histogram({
      name: "cloudsim_nats_request_duration_seconds",
      help: "Time to handle a NATS request, by subject",
      labelNames: ["subject"],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
  };
}
export type HandlerMetrics = ReturnType<typeof handlerMetrics>;
