/**
 * `pnpm bench`: the whole system against this machine's own ceilings, measured in one run.
 * Ceilings first (bare fastify, NATS round trip, pg INSERT, the one-hop pipeline), then the
 * system as processes driven over HTTP, then list latency over 1,000,000 servers and each
 * service's peak memory. The services run as built bundles (`pnpm build`) under plain node.
 * Prints a table and writes bench/results/<time>.json.
 * BENCH_DURATION (seconds per case, default 10), BENCH_LIST_ROWS (default 1000000),
 * BENCH_PARTS (which parts run, default all: ceilings,system,scale; without ceilings no ratios).
 */
import type { ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { freePort, waitForPort } from "@cloudsim/shared/testing";
import { connect } from "@nats-io/transport-node";
import pg from "pg";
import { benchInfra } from "./infra.ts";
import { cpuPerRequest, cpuSnapshot, postmasterOn, settle } from "./lib/cpu.ts";
import { against, closedLoop, type Figure, httpLoad, seconds, warmupSeconds } from "./lib/load.ts";
import { peakRssMb, startBuiltService, startHelper, stop } from "./lib/processes.ts";
import { writeResults } from "./lib/results.ts";

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
  for (const helper of helpers) await stop(helper);
  return { fastifyGet, natsRoundTrip, pgInsert, pipeline, noPg };
}

async function startSystem() {
  const gatewayPort = await freePort();
  const env = {
    ...infra.env,
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
  const names = ["ipam", "lifecycle", "billing", "reaper", "gateway"];
  const children = new Map<string, ReturnType<typeof startBuiltService>>();
  for (const name of names) {
    const port = name === "gateway" ? gatewayPort : await freePort();
    const child = startBuiltService(name, { ...env, PORT: String(port) });
    children.set(name, child);
    try {
      await waitForPort(port, name, 60_000);
    } catch (err) {
      for (const started of children.values()) await stop(started);
      throw err;
    }
  }
  return { url: `http://127.0.0.1:${gatewayPort}`, children };
}

/**
 * CPU milliseconds each part of the system spent per request of each case, including the work
 * the case left queued (events, timers) until the system was idle again: where the time goes.
 */
const cpuCost: Record<string, Record<string, number | null>> = {};
/** Only this run's Postgres counts (other clusters on the machine vacuum on their own time). */
const postmaster = postmasterOn(Number(new URL(infra.databaseUrl).port || 5432));

async function costed(children: Map<string, ChildProcess>, load: () => Promise<Figure>): Promise<Figure> {
  const named = new Map([...children].map(([name, child]) => [child.pid ?? -1, name]));
  const before = cpuSnapshot(named, postmaster);
  const f = await load();
  const settledS = await settle(named, postmaster);
  cpuCost[f.name] = {
    ...cpuPerRequest(before, cpuSnapshot(named, postmaster), f.rps * (seconds + warmupSeconds)),
    "settled after s": settledS,
  };
  return f;
}

const regions = ["us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-1"];

type System = Awaited<ReturnType<typeof startSystem>>;

type Ceilings = Partial<Awaited<ReturnType<typeof ceilings>>>;

async function drive({ url, children }: System, c: Ceilings) {
  const load = (name: string, options: Parameters<typeof httpLoad>[1]) =>
    costed(children, () => httpLoad(name, options));
  const created: string[] = [];
  let n = 0;
  record(
    against(
      await load(`POST /servers`, {
        url,
        requests: [
          {
            method: "POST",
            path: "/servers",
            setupRequest: (req) => ({
              ...req,
              headers: { "content-type": "application/json", "idempotency-key": randomUUID() },
              body: JSON.stringify({ region: regions[n++ % regions.length], type: "t2.micro" }),
            }),
            onResponse: (status, body) => {
              if (status === 201) created.push(JSON.parse(body).id);
            },
          },
        ],
      }),
      c.pipeline,
    ),
  );
  notes.servers_created = created.length;
  let i = 0;
  const pick = () => created[i++ % created.length];
  record(
    against(
      await load("GET /servers/{id}", {
        url,
        requests: [{ method: "GET", setupRequest: (req) => ({ ...req, path: `/servers/${pick()}` }) }],
      }),
      c.noPg,
    ),
  );
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
  await driveEc2(load, url, c);
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
  url: string,
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
  notes.instances_launched = launched.length;
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
async function listAtScale(url: string) {
  const rows = Number(process.env.BENCH_LIST_ROWS ?? 1_000_000);
  const db = new pg.Client({ connectionString: infra.databaseUrl });
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
  notes.list_rows_inserted = rows;
  notes.list_insert_seconds = Math.round((performance.now() - t0) / 100) / 10;
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
    record(await httpLoad(`${name} @ ${rows} rows, 1 client`, { url: `${url}${path}` }, 1));
    record(await httpLoad(`${name} @ ${rows} rows`, { url: `${url}${path}` }));
  }
}

try {
  const c: Ceilings = parts.has("ceilings") ? await ceilings() : {};
  const system = await startSystem();
  try {
    if (parts.has("system")) await drive(system, c);
    if (parts.has("scale")) await listAtScale(system.url);
    notes.peak_rss_mb = Object.fromEntries(
      [...system.children].map(([name, child]) => [name, peakRssMb(child.pid)]),
    );
  } finally {
    for (const child of system.children.values()) await stop(child);
  }
  console.table(figures);
  console.table([notes.peak_rss_mb]);
  console.log("CPU ms per request, by part of the system:");
  console.table(cpuCost);
  notes.cpu_ms_per_request = cpuCost;
  say(`written ${writeResults("system", { figures, notes })}`);
} finally {
  await infra.stop();
}
