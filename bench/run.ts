/**
 * `pnpm bench`: the whole system against this machine's own ceilings, measured in one run.
 * Ceilings first (bare fastify, NATS round trip, pg INSERT, the one-hop pipeline, each HTTP one
 * also with one client, and the start-up of Postgres + nats-server), then the system in each
 * mode in turn, on a fresh database and subject prefix of its own: "split" (five processes) and
 * "one process" (packages/one-process): its start-up to the first 201, driven over HTTP, its
 * memory after 10,000 provisions, then list latency over 1,000,000 servers and peak memory.
 * The services run as built bundles (`pnpm build`) under plain node.
 * Prints a table of figures, one of the modes side by side, and writes bench/results/<time>.json.
 * BENCH_DURATION (seconds per case, default 10), BENCH_LIST_ROWS (default 1000000),
 * BENCH_PARTS (which parts run, default all: ceilings,system,scale; without ceilings no ratios),
 * BENCH_MODES (default split,one-process).
 */
import type { ChildProcess } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { createTestDatabase, freePort, startNatsServer, waitForPort } from "@cloudsim/shared/testing";
import { connect } from "@nats-io/transport-node";
import pg from "pg";
import { benchInfra } from "./infra.ts";
import { cpuPerRequest, cpuSnapshot, postmasterOn, settle } from "./lib/cpu.ts";
import {
  against,
  againstP50,
  closedLoop,
  type Figure,
  httpLoad,
  seconds,
  warmupSeconds,
} from "./lib/load.ts";
import { natsServerOn, postgresPssMb, rssMb } from "./lib/memory.ts";
import { peakRssMb, startBuiltService, startHelper, stop } from "./lib/processes.ts";
import { writeResults } from "./lib/results.ts";
import { infrastructureStartup, launcherStartup } from "./lib/startup.ts";

const parts = new Set((process.env.BENCH_PARTS ?? "ceilings,system,scale").split(","));
const infra = await benchInfra();
const figures: Figure[] = [];
const notes: Record<string, unknown> = { duration_s: seconds, node: process.version };
const say = (line: string) => process.stderr.write(`[bench] ${line}\n`);
const record = (f: Figure) => {
  figures.push(f);
  say(
    `${f.name}: ${f.rps} req/s, p50 ${f.p50_ms} ms, p99 ${f.p99_ms} ms, errors ${f.errors}${f.ratio ? `, ${f.ratio}× ${f.ceiling}` : ""}`,
  );
  return f;
};

async function ceilings() {
  const natsUrl = infra.env.NATS_URL ?? "";
  const helloPort = await freePort();
  const pipelinePort = await freePort();
  const helpers = [
    await startHelper("hello.ts", [String(helloPort)]),
    await startHelper("responder.ts", [natsUrl, infra.databaseUrl]),
    await startHelper("pipeline.ts", [String(pipelinePort), natsUrl]),
  ];
  const fastifyGet = record(
    await httpLoad("ceiling: bare fastify GET", { url: `http://127.0.0.1:${helloPort}/` }),
  );
  const nc = await connect({ servers: natsUrl });
  const natsRoundTrip = record(
    await closedLoop(
      "ceiling: NATS request/reply",
      async () => void (await nc.request("ceiling.echo", "{}", { timeout: 5000 })),
    ),
  );
  await nc.drain();
  const pool = new pg.Pool({ connectionString: infra.databaseUrl, max: 10 });
  const pgInsert = record(
    await closedLoop("ceiling: pg INSERT transaction", async () => {
      await pool.query("INSERT INTO ceiling_orders (body) VALUES ($1)", ['{"bench":true}']);
    }),
  );
  await pool.end();
  const pipeline = record(
    await httpLoad("ceiling: one-hop pipeline (fastify→NATS→pg)", {
      url: `http://127.0.0.1:${pipelinePort}/orders`,
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ region: "us-east-1", type: "t2.micro" }),
    }),
  );
  const noPg = record(
    await httpLoad("ceiling: fastify→NATS round trip (no pg)", {
      url: `http://127.0.0.1:${pipelinePort}/echo`,
    }),
  );
  // One client: the latency of one request with nothing queued ahead of it.
  const pipeline1 = record(
    await httpLoad(
      "ceiling: one-hop pipeline (fastify→NATS→pg) (1 client)",
      {
        url: `http://127.0.0.1:${pipelinePort}/orders`,
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ region: "us-east-1", type: "t2.micro" }),
      },
      1,
    ),
  );
  const noPg1 = record(
    await httpLoad(
      "ceiling: fastify→NATS round trip (no pg) (1 client)",
      { url: `http://127.0.0.1:${pipelinePort}/echo` },
      1,
    ),
  );
  for (const helper of helpers) await stop(helper);
  const startup = await infrastructureStartup();
  say(
    `ceiling: Postgres + nats-server start-up: cold (initdb) ${startup.cold_s} s, warm ${startup.warm_s} s`,
  );
  notes.ceiling_startup_s = startup;
  return { fastifyGet, natsRoundTrip, pgInsert, pipeline, noPg, pipeline1, noPg1, startup };
}

type Mode = "split" | "one process";
const regions = ["us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-1"];
const serviceNames = ["ipam", "lifecycle", "billing", "reaper", "gateway"] as const;

/**
 * The system in one mode, on a database and NATS subject prefix of its own (the bench's Postgres
 * and NATS, already running): five processes ("split") or one ("one process", named cloudsim).
 * Its start-up is the time from spawning them to the first POST /servers answered 201. Each mode
 * has a nats-server of its own, so its memory is what this mode's traffic left, not the last one's.
 */
async function startSystem(mode: Mode) {
  const database = await createTestDatabase(infra.databaseUrl);
  const nats = await startNatsServer();
  const env = {
    ...infra.env,
    DATABASE_URL: database.url,
    NATS_URL: nats.url,
    NATS_SUBJECT_PREFIX: `bench${randomBytes(4).toString("hex")}.`,
    NODE_ENV: "production",
    LOG_LEVEL: "warn",
    // Keyless requests act as the default tenant, so the load needs no API key; that one tenant
    // creates far more than a tenant's default quota, and no rate limit applies.
    AUTH_REQUIRED: "false",
    RATE_LIMIT_PER_MINUTE: "0",
    TENANT_MAX_SERVERS: "1000000",
    TENANT_MAX_VCPUS: "1000000",
    PROVISION_DELAY: "1s",
    START_DELAY: "0s",
    STOP_DELAY: "0s",
    TIMER_INTERVAL: "50ms",
  };
  const ports = new Map<string, number>();
  for (const name of serviceNames) ports.set(name, await freePort());
  const url = `http://127.0.0.1:${ports.get("gateway")}`;
  const children = new Map<string, ChildProcess>();
  const t0 = performance.now();
  if (mode === "split")
    for (const name of serviceNames)
      children.set(name, startBuiltService(name, { ...env, PORT: String(ports.get(name)) }));
  else
    children.set(
      "cloudsim",
      startBuiltService("one-process", {
        ...env,
        ...Object.fromEntries(
          serviceNames.map((name) => [`${name.toUpperCase()}__PORT`, String(ports.get(name))]),
        ),
      }),
    );
  try {
    const first = await firstCreated(url, children);
    const startupS = Math.round(performance.now() - t0) / 1000;
    for (const [name, port] of ports) await waitForPort(port, name, 60_000);
    return { mode, url, children, database, nats, startupS, created: [first] };
  } catch (err) {
    for (const started of children.values()) await stop(started);
    await database.drop();
    await nats.stop();
    throw err;
  }
}

const serverBody = (n: number) => JSON.stringify({ region: regions[n % regions.length], type: "t2.micro" });

/** One POST /servers; the new server's id when it was answered 201. */
async function createServer(url: string, n: number): Promise<string | undefined> {
  const res = await fetch(`${url}/servers`, {
    method: "POST",
    headers: { "content-type": "application/json", "idempotency-key": randomUUID() },
    body: serverBody(n),
    signal: AbortSignal.timeout(10_000),
  });
  const body = await res.text();
  return res.status === 201 ? (JSON.parse(body) as { id: string }).id : undefined;
}

/** POST /servers until one is answered 201 (the system is up); fails when a process exits first. */
async function firstCreated(url: string, children: Map<string, ChildProcess>, timeoutMs = 120_000) {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    for (const [name, child] of children)
      if (child.exitCode !== null || child.signalCode !== null)
        throw new Error(`${name} exited (${child.signalCode ?? `code ${child.exitCode}`}) while starting`);
    const id = await createServer(url, 0).catch(() => undefined);
    if (id) return id;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`no POST /servers was answered 201 within ${timeoutMs} ms`);
}

/**
 * CPU milliseconds each part of the system spent per request of each case, including the work
 * the case left queued (events, timers) until the system was idle again: where the time goes.
 */
const cpuCost: Record<string, Record<string, number | null>> = {};
/** Only this run's Postgres counts (other clusters on the machine vacuum on their own time). */
const postmaster = postmasterOn(Number(new URL(infra.databaseUrl).port || 5432));

async function costed(system: System, load: () => Promise<Figure>): Promise<Figure> {
  const pids = named(system);
  const before = cpuSnapshot(pids, postmaster);
  const f = await load();
  const settledS = await settle(pids, postmaster);
  cpuCost[f.name] = {
    ...cpuPerRequest(before, cpuSnapshot(pids, postmaster), f.rps * (seconds + warmupSeconds)),
    "settled after s": settledS,
  };
  return f;
}

type System = Awaited<ReturnType<typeof startSystem>>;
const named = (system: System) =>
  new Map([...system.children].map(([name, child]) => [child.pid ?? -1, name]));

type Ceilings = Partial<Awaited<ReturnType<typeof ceilings>>>;

/** What the modes table compares (modesTable), for one mode. */
interface ModeFigures {
  post?: Figure;
  get?: Figure;
  post1?: Figure;
  get1?: Figure;
  memory?: Memory;
  startupS?: number;
  /** `make run` (the launcher) to the first 201: on a new data folder, then on what it left. */
  launcher?: { new_s: number; existing_s: number };
}
const byMode = new Map<Mode, ModeFigures>();
/** Per mode: servers created, peak RSS, memory, start-up. */
const modeNotes: Record<string, Record<string, unknown>> = {};
notes.modes = modeNotes;

/** A case's name in a mode: "POST /servers (split)", "POST /servers (one process)". */
const inMode = (name: string, mode: Mode) => `${name} (${mode})`;

async function drive(system: System, c: Ceilings) {
  const { url, mode } = system;
  const own = byMode.get(mode) ?? {};
  const load = (name: string, options: Parameters<typeof httpLoad>[1], clients?: number) =>
    costed(system, () => httpLoad(inMode(name, mode), options, clients));
  const created = system.created;
  let n = 0;
  const post = (): Parameters<typeof httpLoad>[1] => ({
    url,
    requests: [
      {
        method: "POST",
        path: "/servers",
        setupRequest: (req) => ({
          ...req,
          headers: { "content-type": "application/json", "idempotency-key": randomUUID() },
          body: serverBody(n++),
        }),
        onResponse: (status, body) => {
          if (status === 201) created.push(JSON.parse(body).id);
        },
      },
    ],
  });
  own.post = record(against(await load("POST /servers", post()), c.pipeline));
  own.post1 = record(againstP50(await load("POST /servers, 1 client", post(), 1), c.pipeline1));
  modeNotes[mode] = { ...modeNotes[mode], servers_created: created.length };
  let i = 0;
  const pick = () => created[i++ % created.length];
  const get = (): Parameters<typeof httpLoad>[1] => ({
    url,
    requests: [{ method: "GET", setupRequest: (req) => ({ ...req, path: `/servers/${pick()}` }) }],
  });
  own.get = record(against(await load("GET /servers/{id}", get()), c.noPg));
  own.get1 = record(againstP50(await load("GET /servers/{id}, 1 client", get(), 1), c.noPg1));
  byMode.set(mode, own);
  record(against(await load("GET /servers?limit=50", { url: `${url}/servers?limit=50` }), c.noPg));

  // Actions: every server is running by now; each one is stopped, then started, in turn. The
  // next action flips when a request is sent: autocannon drops the answers still in flight when
  // the warm-up ends, and a flip on the answer would then send those servers the same action again.
  const next = new Map(created.map((id) => [id, "stop"]));
  let a = 0;
  record(
    against(
      await load("POST /servers/{id}/action stop/start", {
        url,
        requests: [
          {
            method: "POST",
            setupRequest: (req) => {
              const id = created[a++ % created.length] as string;
              const action = next.get(id);
              next.set(id, action === "stop" ? "start" : "stop");
              return {
                ...req,
                path: `/servers/${id}/action`,
                headers: { "content-type": "application/json" },
                body: JSON.stringify({ action }),
              };
            },
          },
        ],
      }),
      c.pipeline,
    ),
  );
  await driveEc2(load, system, c);
}

type LoadRequest = NonNullable<Parameters<typeof httpLoad>[1]["requests"]>[number];

/** An EC2 Query request: a form POST to `/` with the parameters `params` gives each time. */
const ec2Request = (
  params: () => Record<string, string>,
  onResponse?: LoadRequest["onResponse"],
): LoadRequest => ({
  method: "POST",
  path: "/",
  setupRequest: (req) => ({
    ...req,
    headers: { "content-type": "application/x-www-form-urlencoded; charset=utf-8" },
    body: new URLSearchParams({ Version: "2016-11-15", ...params() }).toString(),
  }),
  ...(onResponse ? { onResponse } : {}),
});

/**
 * The EC2 face beside the REST API, against the same ceilings: RunInstances of one instance
 * (with a client token, as the SDKs send) and DescribeInstances of one id. Unsigned: the load
 * acts as tenant default (AUTH_REQUIRED=false), as the REST cases do.
 */
async function driveEc2(
  load: (name: string, o: Parameters<typeof httpLoad>[1]) => Promise<Figure>,
  { url, mode }: System,
  c: Ceilings,
) {
  const launched: string[] = [];
  const run = () => ({
    Action: "RunInstances",
    ImageId: "ami-0c1a7f8e2d3b4a5c6",
    InstanceType: "t2.micro",
    MinCount: "1",
    MaxCount: "1",
    ClientToken: randomUUID(),
  });
  const launchedOne = (status: number, body: string) => {
    const id = status === 200 ? /<instanceId>(i-[0-9a-f]{17})</.exec(body)?.[1] : undefined;
    if (id) launched.push(id);
  };
  record(
    against(
      await load("EC2 RunInstances (1 instance)", { url, requests: [ec2Request(run, launchedOne)] }),
      c.pipeline,
    ),
  );
  modeNotes[mode] = { ...modeNotes[mode], instances_launched: launched.length };
  let i = 0;
  const describe = () => ({
    Action: "DescribeInstances",
    "InstanceId.1": launched[i++ % launched.length] ?? "",
  });
  record(
    against(await load("EC2 DescribeInstances (1 id)", { url, requests: [ec2Request(describe)] }), c.noPg),
  );
}

/** Keyset pages over a big table: the first, one deep in, and filtered ones. */
async function listAtScale({ url, mode, database }: System) {
  const rows = Number(process.env.BENCH_LIST_ROWS ?? 1_000_000);
  const db = new pg.Client({ connectionString: database.url });
  await db.connect();
  const t0 = performance.now();
  await db.query(
    `INSERT INTO lifecycle.servers (id, name, region, type, vcpus, state, ip_address, created_at, updated_at,
                                   reservation_id, image, availability_zone)
     SELECT id, 'bulk-' || g, region, (ARRAY['t2.micro','t2.small','m5.large'])[1 + (g / 5) % 3],
            (ARRAY[1, 1, 2])[1 + (g / 5) % 3], (ARRAY['running','stopped','terminated'])[1 + (g / 15) % 3],
            NULL, now(), now(), 'r-' || right(replace(id::text, '-', ''), 17), 'ami-0c1a7f8e2d3b4a5c6', region || 'a'
     FROM (SELECT g, gen_random_uuid() AS id,
                  (ARRAY['us-east-1','us-west-2','eu-west-1','eu-central-1','ap-southeast-1'])[1 + g % 5] AS region
           FROM generate_series(1, $1) AS g) AS bulk`,
    [rows],
  );
  await db.query("ANALYZE lifecycle.servers");
  modeNotes[mode] = {
    ...modeNotes[mode],
    list_rows_inserted: rows,
    list_insert_seconds: Math.round((performance.now() - t0) / 100) / 10,
  };
  const deep = await db.query(
    "SELECT id FROM lifecycle.servers WHERE state <> 'terminated' ORDER BY id DESC OFFSET $1 LIMIT 1",
    [Math.floor(rows / 2)],
  );
  await db.end();
  const cursor = Buffer.from(deep.rows[0].id).toString("base64url");
  for (const [name, path] of [
    ["list, first page", "/servers?limit=50"],
    ["list, a page half way down", `/servers?limit=50&cursor=${cursor}`],
    ["list, region+type filter", "/servers?limit=50&region=eu-west-1&type=m5.large"],
    ["list, state=stopped", "/servers?limit=50&state=stopped"],
    ["get one", `/servers/${deep.rows[0].id}`],
  ] as const) {
    // A page's own latency (one client, nothing queued ahead of it), then under 50 connections.
    record(await httpLoad(inMode(`${name} @ ${rows} rows, 1 client`, mode), { url: `${url}${path}` }, 1));
    record(await httpLoad(inMode(`${name} @ ${rows} rows`, mode), { url: `${url}${path}` }));
  }
}

const provisions = 10_000;

/** The whole system's resident memory now, in MB. */
interface Memory {
  services_rss_mb: number | null;
  postgres_pss_mb: number | null;
  nats_rss_mb: number | null;
  total_mb: number | null;
}

/**
 * The whole system's memory after 10,000 provisions: the servers the load cases left, topped up
 * to 10,000 by a closed loop of POST /servers, then idle. The services' RSS (five pids or one),
 * Postgres's PSS over the postmaster and its children, nats-server's RSS.
 */
async function memoryAfterProvisions(system: System): Promise<Memory> {
  const db = new pg.Client({ connectionString: system.database.url });
  await db.connect();
  const count = async () =>
    (await db.query("SELECT count(*)::int AS n FROM lifecycle.servers")).rows[0].n as number;
  const before = await count();
  let missing = provisions - before;
  let failed = 0;
  const worker = async () => {
    while (missing > 0 && failed < provisions) {
      missing--;
      const id = await createServer(system.url, missing).catch(() => undefined);
      if (id) system.created.push(id);
      else {
        failed++;
        missing++;
      }
    }
  };
  await Promise.all(Array.from({ length: 20 }, worker));
  await settle(named(system), postmaster);
  const servers = await count();
  await db.end();
  const natsPort = Number(new URL(system.nats.url).port);
  const measured = {
    services_rss_mb: rssMb([...system.children.values()].map((child) => child.pid)),
    postgres_pss_mb: postgresPssMb(postmaster),
    nats_rss_mb: rssMb([natsServerOn(natsPort)]),
  };
  const known = Object.values(measured).every((mb) => mb !== null);
  const memory = {
    ...measured,
    total_mb: known
      ? Math.round(Object.values(measured).reduce<number>((sum, mb) => sum + (mb ?? 0), 0) * 10) / 10
      : null,
  };
  modeNotes[system.mode] = {
    ...modeNotes[system.mode],
    servers_before_top_up: before,
    servers_at_memory: servers,
    top_up_failures: failed,
    memory_mb: memory,
  };
  say(
    `memory (${system.mode}) at ${servers} servers: services ${memory.services_rss_mb} MB, Postgres ${memory.postgres_pss_mb} MB, nats-server ${memory.nats_rss_mb} MB, total ${memory.total_mb} MB`,
  );
  return memory;
}

const round2 = (n: number) => Math.round(n * 100) / 100;
const ratioOf = (value: number | null | undefined, ceiling: number | null | undefined) =>
  value == null || !ceiling ? null : round2(value / ceiling);

/** The modes side by side: one row per figure, each mode's value and its ratio to the ceiling. */
function modesTable(c: Ceilings) {
  const split = byMode.get("split") ?? {};
  const one = byMode.get("one process") ?? {};
  const row = (
    figure: string,
    value: (m: ModeFigures) => number | null | undefined,
    ceiling: number | null | undefined,
    target: string,
  ) => ({
    figure,
    split: value(split) ?? null,
    "one process": value(one) ?? null,
    ceiling: ceiling ?? null,
    "ratio split": ratioOf(value(split), ceiling),
    "ratio one process": ratioOf(value(one), ceiling),
    target,
  });
  return [
    row("POST /servers p50 ms, 1 client", (m) => m.post1?.p50_ms, c.pipeline1?.p50_ms, "≤ 2×"),
    row("GET /servers/{id} p50 ms, 1 client", (m) => m.get1?.p50_ms, c.noPg1?.p50_ms, "≤ 2×"),
    row("POST /servers req/s, 50 connections", (m) => m.post?.rps, c.pipeline?.rps, "≥ 0.3× (one process)"),
    row("GET /servers/{id} req/s, 50 connections", (m) => m.get?.rps, c.noPg?.rps, "≥ 0.35× (one process)"),
    row(`memory MB at ${provisions} servers: services (RSS)`, (m) => m.memory?.services_rss_mb, null, ""),
    row("memory MB: Postgres (PSS)", (m) => m.memory?.postgres_pss_mb, null, ""),
    row("memory MB: nats-server (RSS)", (m) => m.memory?.nats_rss_mb, null, ""),
    row("memory MB: total", (m) => m.memory?.total_mb, null, "≤ 300 MB (one process)"),
    row(
      "start-up s, make run to first 201, new data (÷ pg + nats cold)",
      (m) => m.launcher?.new_s,
      c.startup?.cold_s,
      "≤ 2× (one process)",
    ),
    row(
      "start-up s, make run to first 201, existing data (÷ pg + nats warm)",
      (m) => m.launcher?.existing_s,
      c.startup?.warm_s,
      "≤ 2× (one process)",
    ),
    row("start-up s, services alone to first 201 (new database)", (m) => m.startupS, null, ""),
  ];
}

const modes: Mode[] = (process.env.BENCH_MODES ?? "split,one-process")
  .split(",")
  .map((m) => (m.trim() === "split" ? "split" : "one process"));

try {
  const c: Ceilings = parts.has("ceilings") ? await ceilings() : {};
  const peakRss: Record<string, unknown>[] = [];
  for (const mode of modes) {
    const system = await startSystem(mode);
    say(`${mode}: first POST /servers answered 201 after ${system.startupS} s`);
    byMode.set(mode, { ...byMode.get(mode), startupS: system.startupS });
    modeNotes[mode] = { ...modeNotes[mode], startup_s: system.startupS };
    try {
      if (parts.has("system")) {
        await drive(system, c);
        const memory = await memoryAfterProvisions(system);
        byMode.set(mode, { ...byMode.get(mode), memory });
      }
      if (parts.has("scale")) await listAtScale(system);
      const peak = Object.fromEntries(
        [...system.children].map(([name, child]) => [name, peakRssMb(child.pid)]),
      );
      modeNotes[mode] = { ...modeNotes[mode], peak_rss_mb: peak };
      peakRss.push({ mode, ...peak });
    } finally {
      for (const child of system.children.values()) await stop(child);
      await system.database.drop();
      await system.nats.stop();
    }
  }
  if (parts.has("system"))
    for (const mode of modes) {
      const launcher = await launcherStartup(mode === "split");
      say(
        `${mode}: make run to the first 201: new data ${launcher.new_s} s, existing ${launcher.existing_s} s`,
      );
      byMode.set(mode, { ...byMode.get(mode), launcher });
      modeNotes[mode] = { ...modeNotes[mode], make_run_startup_s: launcher };
    }
  console.table(figures);
  console.log("Peak RSS MB, by process:");
  console.table(peakRss);
  console.log("CPU ms per request, by part of the system:");
  console.table(cpuCost);
  notes.cpu_ms_per_request = cpuCost;
  const sideBySide = modesTable(c);
  console.log(
    "Modes side by side (start-up of make run: the launcher, Postgres and NATS included; of the services alone: on the bench's running Postgres and NATS, a new database):",
  );
  console.table(sideBySide);
  notes.modes_side_by_side = sideBySide;
  say(`written ${writeResults("system", { figures, notes })}`);
} finally {
  await infra.stop();
}
