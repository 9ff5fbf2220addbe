import type { z } from "zod";
import { type Bus, connectBus } from "./bus.ts";
import type { Clock } from "./clock.ts";
import { type ClockStore, openClock } from "./clock-store.ts";
import { type baseConfig, type databaseConfig, databaseUrl, type outboxConfig } from "./config.ts";
import { createDatabase, type Database, migrateSchema, pingDatabase } from "./db.ts";
import { checkConsumersReadable } from "./event-consumer.ts";
import { configureEventConsumers } from "./event-retries.ts";
import { ensureEventStream, whenJetStreamAnswers } from "./event-stream.ts";
import { waitForSettledEvents } from "./events-settled.ts";
import { startHealthServer } from "./health.ts";
import type { Logger } from "./logger.ts";
import { createRegistry, type HandlerMetrics, handlerMetrics, type Registry } from "./metrics.ts";
import { consumerMetrics, dependencyMetrics, outboxMetrics } from "./ops-metrics.ts";
import { startOutboxRelay } from "./outbox-relay.ts";
import { processedEventsRetention, type Retention, startPruner } from "./prune.ts";

/** A started service: what tests and main need to reach it and stop it. */
export interface RunningService {
  /** The port of /healthz, /readyz and /metrics (or of the HTTP API, for the gateway). */
  port: number;
  stop(): Promise<void>;
  /** The steps of stop() not finished yet: what a stop past SHUTDOWN_GRACE abandons. */
  unfinished?(): string[];
}

type ServiceConfig = z.infer<typeof baseConfig> & z.infer<typeof databaseConfig> & { PORT: number };

/** The connections every service with a database holds, opened in order and closed in reverse. */
export interface ServiceRuntime {
  bus: Bus;
  database: Database;
  registry: Registry;
  metrics: HandlerMetrics;
  log: Logger;
  /** The time of simulated things (clock.ts): states, bills, idle time, cooldowns. */
  clock: Clock;
  /** Where the simulated clock is kept and moved (CLOCK=simulated only). */
  clockStore?: ClockStore;
  /** Resolves once this service's outbox is published and its consumers have handled every event. */
  settled(): Promise<void>;
  /** Starts publishing this service's outbox (for services that write events). */
  startOutboxRelay(): Worker;
}

/** Something a service runs in the background and stops on shutdown. */
export interface Worker {
  stop(): Promise<void>;
}

/**
 * Connects NATS and Postgres, applies the service's migrations and serves health and metrics.
 * `serve` registers the handlers and starts workers; what it returns is stopped first on shutdown.
 */
export async function startRuntime(
  name: string,
  config: ServiceConfig,
  log: Logger,
  /**
   * The service's schema, its migrations, whether its statements run on generic plans
   * (createDatabase), and the tables it prunes besides processed_events (prune.ts): a list, or
   * a function given the runtime's clock for retentions of simulated things. `clock` is the
   * clock of simulated things (runtime.clock; the one CLOCK names when left out): a test's own, say.
   */
  storage: {
    schema: string;
    folder: string;
    genericPlans?: boolean;
    retentions?: Retention[] | ((clock: Clock) => Retention[]);
    clock?: Clock;
  },
  serve: (runtime: ServiceRuntime) => Promise<Worker | Worker[]> | Worker | Worker[],
): Promise<RunningService> {
  const database = createDatabase(databaseUrl(config), config.DB_POOL_MAX, log, {
    ...storage,
    limits: config,
  });
  await migrateSchema(database.pool, storage.schema, storage.folder, config.DB_MIGRATION_LOCK_TIMEOUT);
  const bus = await connectBus(name, config, log);
  await whenJetStreamAnswers(() => ensureEventStream(bus), log);
  const clocks = storage.clock
    ? { clock: storage.clock }
    : await whenJetStreamAnswers(() => openClock(bus, config, log), log);
  let relaying = false;
  const registry = createRegistry(name);
  configureEventConsumers(bus, config, registry);
  const startRelay = () => {
    const outbox = config as Partial<z.infer<typeof outboxConfig>>;
    if (outbox.OUTBOX_INTERVAL === undefined || outbox.OUTBOX_BATCH === undefined) {
      throw new Error(`${name} has an outbox but no OUTBOX_* configuration`);
    }
    relaying = true;
    // Only a service with an outbox reports its lag.
    outboxMetrics(registry, database.pool, storage.schema);
    return startOutboxRelay({
      pool: database.pool,
      schema: storage.schema,
      bus,
      intervalMs: outbox.OUTBOX_INTERVAL,
      batch: outbox.OUTBOX_BATCH,
      log,
    });
  };
  const { clock, store: clockStore } = clocks;
  const retentions = [
    ...(await processedEvents(database, storage.schema, config)),
    ...(typeof storage.retentions === "function" ? storage.retentions(clock) : (storage.retentions ?? [])),
  ];
  const served = [
    await serve({
      bus,
      database,
      registry,
      metrics: handlerMetrics(registry),
      log,
      clock,
      clockStore,
      settled: () => waitForSettledEvents(bus, database.pool, relaying ? storage.schema : undefined),
      startOutboxRelay: startRelay,
    }),
  ].flat();
  if (retentions.length > 0) {
    const { PRUNE_INTERVAL: intervalMs, PRUNE_BATCH: batch } = config;
    served.push(startPruner(database.pool, retentions, { intervalMs, batch, registry, log }));
  }
  // Started means answering: the subscriptions are registered with the server before we say so.
  await bus.ping();
  const checks = [
    { name: "postgres", check: () => pingDatabase(database.pool) },
    { name: "nats", check: () => bus.ping() },
    { name: "event_consumers", check: async () => checkConsumersReadable(bus) },
  ];
  dependencyMetrics(registry, checks);
  consumerMetrics(registry, bus);
  const health = await startHealthServer({ port: config.PORT, registry, log, checks });
  const shutdown = inOrder([
    ["background workers", () => Promise.all(served.map((worker) => worker.stop()))],
    [
      "NATS handlers and subscriptions",
      async () => {
        clockStore?.stop();
        await bus.close();
      },
    ],
    ["Postgres connections", () => database.pool.end()],
    // Last, so /readyz answers 503 for as long as the process drains.
    ["health server", () => health.close()],
  ]);
  return {
    port: health.port,
    async stop() {
      // Not ready first, so nothing new is sent this way while what is in hand finishes.
      health.drain();
      await shutdown.run();
    },
    unfinished: shutdown.unfinished,
  };
}

/** The retention of the schema's processed_events, when it has one (every event consumer's does). */
async function processedEvents(
  database: Database,
  schema: string,
  config: ServiceConfig,
): Promise<Retention[]> {
  const { rows } = await database.pool.query<{ found: boolean }>(
    "SELECT to_regclass($1) IS NOT NULL AS found",
    [`${schema}.processed_events`],
  );
  return rows[0]?.found ? [processedEventsRetention(schema, config.PROCESSED_EVENTS_RETENTION)] : [];
}

/** Steps run one after the other; `unfinished` names the ones not done yet. */
function inOrder(steps: [name: string, run: () => Promise<unknown>][]) {
  let done = 0;
  return {
    async run() {
      for (const [, step] of steps) {
        await step();
        done++;
      }
    },
    unfinished: () => steps.slice(done).map(([name]) => name),
  };
}
