/**
 * Gauges an operator needs that every service shares, computed when Prometheus scrapes:
 * whether the dependencies answer, how far the outbox is behind, how much a JetStream
 * consumer has not taken yet. A failed look-up leaves its series out of that scrape (an
 * alert on absence catches it) rather than failing the whole /metrics answer.
 */
import { jetstreamManager } from "@nats-io/jetstream";
import type pg from "pg";
import { Gauge, type Registry } from "prom-client";
import type { Bus } from "./bus.ts";
import { type ReadinessCheck, readiness } from "./health.ts";

/** cloudsim_dependency_up{dependency}: 1 while the readiness check of a dependency passes. */
export function dependencyMetrics(registry: Registry, checks: ReadinessCheck[]) {
  new Gauge({
    name: "cloudsim_dependency_up",
    help: "Whether a dependency (postgres, nats) answers this service's readiness check (1) or not (0)",
    labelNames: ["dependency"],
    registers: [registry],
    async collect() {
      const result = await readiness(checks);
      for (const [dependency, status] of Object.entries(result.checks))
        this.set({ dependency }, status === "ok" ? 1 : 0);
    },
  });
}

/** Outbox lag of `<schema>.outbox`: the age of the oldest event not yet published, and how many wait. */
export function outboxMetrics(registry: Registry, pool: pg.Pool, schema: string) {
  // One query sets both gauges, from the one collected first, so a scrape never pairs a fresh
  // lag with a count from the scrape before.
  const lag = new Gauge({
    name: "cloudsim_outbox_lag_seconds",
    help: "Age of the oldest event in this service's outbox not yet published (0 when it is empty)",
    registers: [],
  });
  new Gauge({
    name: "cloudsim_outbox_pending_events",
    help: "Events written to this service's outbox and not yet published to JetStream",
    registers: [registry],
    async collect() {
      this.reset();
      lag.reset();
      try {
        const { rows } = await pool.query<{ n: number; age: number | null }>(
          // real time: the outbox's lag is the relay's, a metric of the process (created_at is real).
          `SELECT count(*)::int AS n, EXTRACT(EPOCH FROM now() - min(created_at))::float8 AS age FROM ${schema}.outbox`,
        );
        this.set(rows[0]?.n ?? 0);
        lag.set(Math.max(0, rows[0]?.age ?? 0));
      } catch {
        // Postgres is away: cloudsim_dependency_up says so.
      }
    },
  });
  registry.registerMetric(lag);
}

/** Messages of each durable consumer this process reads that no replica has taken or acknowledged yet. */
export function consumerMetrics(registry: Registry, bus: Bus) {
  const ackPending = new Gauge({
    name: "cloudsim_jetstream_consumer_ack_pending_messages",
    help: "Messages delivered to a durable JetStream consumer and not yet acknowledged",
    labelNames: ["stream", "consumer"],
    registers: [registry],
  });
  new Gauge({
    name: "cloudsim_jetstream_consumer_pending_messages",
    help: "Messages in the stream a durable JetStream consumer has not been delivered yet",
    labelNames: ["stream", "consumer"],
    registers: [registry],
    async collect() {
      this.reset();
      ackPending.reset();
      if (bus.consumers.length === 0 || bus.nc.isClosed()) return;
      try {
        const jsm = await jetstreamManager(bus.nc, { timeout: 2_000 });
        for (const { stream, durable } of bus.consumers) {
          const info = await jsm.consumers.info(stream, durable);
          this.set({ stream, consumer: durable }, info.num_pending);
          ackPending.set({ stream, consumer: durable }, info.num_ack_pending);
        }
      } catch {
        // NATS is away: cloudsim_dependency_up says so.
      }
    },
  });
}
