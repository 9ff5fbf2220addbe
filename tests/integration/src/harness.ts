import { randomBytes } from "node:crypto";
import { Writable } from "node:stream";
import { type ServiceName, serviceNames, services } from "@cloudsim/one-process";
import {
  type Bus,
  createLogger,
  type Env,
  type Logger,
  loadConfig,
  type RunningService,
} from "@cloudsim/shared";
import {
  connectTestBus,
  createTestDatabase,
  ensureSchemaOwners,
  localNatsUser,
  type TestDatabase,
} from "@cloudsim/shared/testing";
import { afterAll, beforeAll, expect, inject } from "vitest";

/** Defaults that keep the tests fast: short delays, a fast timer, quiet logs. */
export const fastEnv: Env = {
  PORT: "0",
  LOG_LEVEL: "info",
  PROVISION_DELAY: "300ms",
  TIMER_INTERVAL: "25ms",
  REQUEST_TIMEOUT: "3s",
  IP_REUSE_COOLDOWN: "1s",
  // Keyless requests act as tenant `default`, without limits that the older tests would meet;
  // the tests of auth, tenancy, quotas and the rate limit set these themselves.
  AUTH_REQUIRED: "false",
  RATE_LIMIT_PER_MINUTE: "0",
  TENANT_MAX_SERVERS: "100000",
  TENANT_MAX_VCPUS: "1000000",
  // Small pools: creating them is quicker than the default /16 per region.
  IPAM_POOLS:
    "us-east-1=10.0.0.0/22,us-west-2=10.1.0.0/22,eu-west-1=10.2.0.0/22,eu-central-1=10.3.0.0/22,ap-southeast-1=10.4.0.0/22",
};

/** Starts a service of the one-process mode's table, on `env`. */
function startService(name: ServiceName, env: Env, log: Logger): Promise<RunningService> {
  const { schema, start } = services[name];
  return start(loadConfig(schema, env), log);
}

export type { ServiceName };

/** Every JSON log line the in-process services wrote, for assertions on what they logged. */
export class LogCapture extends Writable {
  readonly lines: Record<string, unknown>[] = [];
  override _write(chunk: Buffer, _enc: string, done: () => void) {
    for (const line of chunk.toString().split("\n").filter(Boolean)) this.lines.push(JSON.parse(line));
    done();
  }
}

export interface Stack {
  url: string;
  env: Env;
  database: TestDatabase;
  logs: LogCapture;
  services: { name: ServiceName; running: RunningService }[];
  /** Starts one more replica of a service in this process. */
  start(name: ServiceName, extraEnv?: Env): Promise<RunningService>;
  stopService(running: RunningService): Promise<void>;
  stop(): Promise<void>;
}

/**
 * gateway, lifecycle and ipam in this process, on a database and a NATS subject prefix of
 * their own, so test files never meet. `replicas` starts more than one of a service.
 */
export async function startStack(
  options: { env?: Env; replicas?: Partial<Record<ServiceName, number>>; skip?: ServiceName[] } = {},
): Promise<Stack> {
  const database = await createTestDatabase(inject("postgresAdminUrl"));
  const env: Env = {
    ...fastEnv,
    DATABASE_URL: database.url,
    NATS_URL: inject("natsUrl"),
    NATS_SUBJECT_PREFIX: `t${randomBytes(5).toString("hex")}.`,
    // The suite runs both ways (.ci/run): services of the test's process calling each other in
    // memory (the default), and with LOCAL_REQUESTS=false through nats-server, as when split.
    ...(process.env.LOCAL_REQUESTS !== undefined && { LOCAL_REQUESTS: process.env.LOCAL_REQUESTS }),
    ...options.env,
  };
  // Each service connects as the role that owns its schema, and to NATS as its own user with
  // its permissions, as in production.
  const schemaOwnerUrls: Partial<Record<ServiceName, string>> = await ensureSchemaOwners(database.url);
  const logs = new LogCapture();
  const services: Stack["services"] = [];
  const start = async (name: ServiceName, extraEnv: Env = {}) => {
    const running = await startService(
      name,
      {
        ...env,
        DATABASE_URL: schemaOwnerUrls[name] ?? env.DATABASE_URL,
        ...localNatsUser(name),
        ...extraEnv,
      },
      createLogger(name, env.LOG_LEVEL ?? "info", logs),
    );
    services.push({ name, running });
    return running;
  };
  for (const name of serviceNames) {
    if (options.skip?.includes(name)) continue;
    for (let i = 0; i < (options.replicas?.[name] ?? 1); i++) await start(name);
  }
  const gateway = services.find((s) => s.name === "gateway");
  const stopService = async (running: RunningService) => {
    const i = services.findIndex((s) => s.running === running);
    if (i >= 0) services.splice(i, 1);
    await running.stop();
  };
  return {
    url: `http://127.0.0.1:${gateway?.running.port ?? 0}`,
    env,
    database,
    logs,
    services,
    start,
    stopService,
    async stop() {
      for (const s of [...services].reverse()) await stopService(s.running);
      await database.drop();
    },
  };
}

// biome-ignore lint/suspicious/noExplicitAny: tests read answer bodies loosely and assert on them
export interface Answer<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

/** A small JSON client for the gateway. */
/** A JSON client for the gateway at `baseUrl` (or at what it returns, read at each call). */
export function client(baseUrl: string | (() => string)) {
  const call = async (
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<Answer> => {
    const response = await fetch((typeof baseUrl === "string" ? baseUrl : baseUrl()) + path, {
      method,
      headers: body === undefined ? headers : { "content-type": "application/json", ...headers },
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {}
    return { status: response.status, headers: response.headers, body: parsed };
  };
  return {
    get: (path: string, headers?: Record<string, string>) => call("GET", path, undefined, headers),
    post: (path: string, body?: unknown, headers?: Record<string, string>) =>
      call("POST", path, body, headers),
    call,
  };
}

/** Polls until `check` returns a value, or fails after `timeoutMs`. */
export async function eventually<T>(
  check: () => Promise<T | undefined>,
  timeoutMs = 10_000,
  what = "condition",
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what} did not hold within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Every page of a listing, following next_cursor; fails on a page that is not 200. */
export async function allPages(api: ReturnType<typeof client>, query: string, limit: number) {
  const pages: { ids: string[]; next_cursor: string | null }[] = [];
  let cursor: string | null = null;
  do {
    const sep = query ? "&" : "";
    const path: string = `/servers?${query}${sep}limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
    const res = await api.get(path);
    expect(res.status, `${path}: ${JSON.stringify(res.body)}`).toBe(200);
    expect(res.body.items.length).toBeLessThanOrEqual(limit);
    pages.push({ ids: res.body.items.map((s: { id: string }) => s.id), next_cursor: res.body.next_cursor });
    cursor = res.body.next_cursor;
    if (pages.length > 100) throw new Error("paging does not end");
  } while (cursor);
  return pages;
}

/** A client of the stack's NATS commands, as the services talk to each other. */
export function busOf(stack: Stack): Promise<Bus> {
  return connectTestBus(stack.env.NATS_URL ?? "", { subjectPrefix: stack.env.NATS_SUBJECT_PREFIX ?? "" });
}

/** The sum of the samples of `name` whose labels include `labels`, from Prometheus text. */
export function sample(metrics: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const line of metrics.split("\n")) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`)))
      total += Number(line.split(" ").pop());
  }
  return total;
}

/**
 * A stack for the tests of one `describe` (started before them, stopped after), and a client
 * of its gateway that can be taken at once.
 */
export function useStack(options: Parameters<typeof startStack>[0] = {}) {
  let stack: Stack | undefined;
  beforeAll(async () => {
    stack = await startStack(options);
  });
  afterAll(() => stack?.stop());
  const started = () => {
    if (!stack) throw new Error("the stack starts in beforeAll");
    return stack;
  };
  return {
    get stack() {
      return started();
    },
    api: client(() => started().url),
  };
}
