import { z } from "zod";
import { type DurationUnit, parseDuration } from "./duration.ts";

export type Env = Record<string, string | undefined>;

/** A config value that stops start-up, naming the variable. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join("\n  ")}`);
  }
}

const DAY_MS = 86_400_000;

/** A duration variable in milliseconds; `bareUnit` says what a bare number means. */
export const duration = (fallback: string, bareUnit: DurationUnit = "s") =>
  z
    .string()
    .default(fallback)
    .transform((text, ctx) => {
      const ms = parseDuration(text, bareUnit);
      if (ms === undefined) {
        ctx.addIssue({
          code: "custom",
          message: "expected a duration like 500ms, 2s, 30m or 2h",
        });
        return z.NEVER;
      }
      return ms;
    });

/** A yes/no variable: true, 1 or yes; false, 0 or no (in lower case); anything else is refused. */
export const envBoolean = (fallback: boolean) =>
  z
    .stringbool({
      truthy: ["true", "1", "yes"],
      falsy: ["false", "0", "no"],
      case: "sensitive",
      error: "expected true or false",
    })
    .default(fallback);

export const port = (fallback: number) => z.coerce.number().int().min(0).max(65_535).default(fallback);

const emptyAsUndefined = (value: unknown) => (value === "" ? undefined : value);
const optionalText = z.preprocess(emptyAsUndefined, z.string().optional());

/** How event consumers retry an event they fail on, and keep those they give up on (consumeEvents, event-consumer.ts). */
export const eventsConfig = z.object({
  /** Deliveries of an event before it goes to the dead-letter stream. */
  EVENT_MAX_DELIVER: z.coerce.number().int().min(1).max(100).default(5),
  /** The wait before the second delivery; it doubles with each further one (at most 5 minutes). */
  EVENT_RETRY_DELAY: duration("1s"),
  /**
   * How long JetStream waits for an event's ack before it delivers it again: what a delivery
   * lost with a NATS node (or a replica that died holding it) costs. Longer than a batch takes.
   */
  EVENT_ACK_WAIT: duration("30s"),
  DEAD_LETTER_MAX_AGE: duration("14d"),
  DEAD_LETTER_MAX_BYTES: z.coerce.number().int().min(1_048_576).default(268_435_456),
});
export type EventsConfig = z.infer<typeof eventsConfig>;

/** Which clock the time of simulated things follows (clock.ts, clock-store.ts); the same on every service. */
export const clockConfig = z.object({
  CLOCK: z.enum(["real", "simulated"]).default("real"),
  /** Where a new simulated clock starts (an ISO time); the real time of the first start when empty. */
  CLOCK_START: z.preprocess(emptyAsUndefined, z.iso.datetime({ offset: true }).optional()),
  /** How many simulated seconds pass in one real second (0 stops the clock between advances). */
  CLOCK_RATE: z.coerce.number().min(0).max(1_000_000).default(1),
});
export type ClockConfig = z.infer<typeof clockConfig>;

/** SHUTDOWN_GRACE's default: shorter than Compose's stop_grace_period (15 s), so the process ends itself first. */
export const SHUTDOWN_GRACE_MS = 10_000;

/** What every service reads: logging and NATS. */
export const baseConfig = z.object({
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  NATS_URL: z.string().default("nats://127.0.0.1:4222"),
  /** The service's own NATS user (ops/nats: one per service, allowed only what its contracts name). */
  NATS_USER: optionalText,
  NATS_PASSWORD: optionalText,
  NATS_SUBJECT_PREFIX: z
    .string()
    .regex(/^([A-Za-z0-9_-]+\.)*$/, "must be empty or tokens each followed by a dot, like `dev.`")
    .default(""),
  REQUEST_TIMEOUT: duration("5s"),
  /**
   * How often the client pings its nats-server; two unanswered pings and it reconnects to
   * another. A cut link sends no error, so this is how long a partition goes unnoticed.
   */
  NATS_PING_INTERVAL: duration("20s"),
  /** The longest wait for one nats-server to answer a (re)connect before trying the next. */
  NATS_CONNECT_TIMEOUT: duration("5s"),
  /**
   * Copies JetStream keeps of each stream (the events, the dead letters, the clock) and of the
   * consumers on them: 1 on one nats-server, 3 on a three-node cluster. A stream made with
   * another count is updated to this one.
   */
  STREAM_REPLICAS: z.coerce.number().int().min(1).max(5).default(1),
  ...eventsConfig.shape,
  ...clockConfig.shape,
  /**
   * Requests a process handles at once; past it, a request is answered 503 at once rather than
   * queued (memory stays bounded under overload).
   */
  MAX_IN_FLIGHT: z.coerce.number().int().min(1).max(100_000).default(512),
  /**
   * A request to a service running in this same process (the one-process mode) skips NATS;
   * false sends every request through nats-server.
   */
  LOCAL_REQUESTS: envBoolean(true),
  /** How long a stopping process may drain before it exits anyway, naming what it abandoned. */
  SHUTDOWN_GRACE: duration(`${SHUTDOWN_GRACE_MS}ms`),
});

/** What every service with a database reads: DATABASE_URL, or its parts. */
export const databaseConfig = z.object({
  DATABASE_URL: optionalText,
  DB_HOST: z.string().default("127.0.0.1"),
  DB_PORT: port(5432),
  DB_NAME: z.string().default("cloudsim"),
  DB_USER: z.string().default("postgres"),
  DB_PASSWORD: z.string().default(""),
  DB_SSLMODE: z.enum(["disable", "prefer", "require", "verify-ca", "verify-full"]).default("disable"),
  DB_POOL_MAX: z.coerce.number().int().min(1).max(200).default(10),
  /** How long getting a connection may take (a full pool or an unreachable server): no wait without end. */
  DB_CONNECT_TIMEOUT: duration("5s"),
  /** The longest one statement may run; past it Postgres cancels it and the caller gets 503. */
  DB_STATEMENT_TIMEOUT: duration("30s"),
  /** The longest a statement may wait for a row or table lock. */
  DB_LOCK_TIMEOUT: duration("10s"),
  /** A transaction left idle this long is ended by Postgres, so it cannot hold back locks or vacuum. */
  DB_IDLE_IN_TRANSACTION_TIMEOUT: duration("10s"),
  /** How long a starting replica waits for another's migrations before it gives up, naming the holder. */
  DB_MIGRATION_LOCK_TIMEOUT: duration("60s"),
  /**
   * How long an event's id is kept as handled. The stream keeps an event 7 days from when it
   * stored it (its max_age; its duplicate window is far shorter), and an event is handled after
   * it was stored: once its id is this old, no redelivery of it can come any more.
   */
  PROCESSED_EVENTS_RETENTION: duration("7d").refine((ms) => ms >= DAY_MS * 7, {
    message: "must be at least 7d, the event stream's max_age",
  }),
  /** How often expired rows are deleted, and how many per statement (prune.ts). */
  PRUNE_INTERVAL: duration("60s"),
  PRUNE_BATCH: z.coerce.number().int().min(1).max(100_000).default(1_000),
});
export type DatabaseConfig = z.infer<typeof databaseConfig>;

/** DATABASE_URL when given, otherwise one built from DB_*. */
export function databaseUrl(config: DatabaseConfig): string {
  if (config.DATABASE_URL) return config.DATABASE_URL;
  const auth = config.DB_PASSWORD
    ? `${encodeURIComponent(config.DB_USER)}:${encodeURIComponent(config.DB_PASSWORD)}`
    : encodeURIComponent(config.DB_USER);
  return `postgres://${auth}@${config.DB_HOST}:${config.DB_PORT}/${encodeURIComponent(config.DB_NAME)}?sslmode=${config.DB_SSLMODE}`;
}

/** Parses the environment once, at start-up; every problem names its variable. */
export function loadConfig<S extends z.ZodType>(schema: S, env: Env = process.env): z.infer<S> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const name = issue.path.join(".");
    const got = env[name];
    return `${name}: ${issue.message}${got === undefined ? "" : ` (got "${got}")`}`;
  });
  throw new ConfigError(problems);
}

/** What every service with an outbox reads. */
export const outboxConfig = z.object({
  OUTBOX_INTERVAL: duration("50ms", "ms"),
  OUTBOX_BATCH: z.coerce.number().int().min(1).max(10_000).default(500),
});
