import { randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { toAppError } from "@cloudsim/shared";
import {
  ensureDatabase,
  freePort,
  type PostgresHandle,
  startEmbeddedPostgres,
} from "@cloudsim/shared/testing";
import pg from "pg";
import { afterAll, beforeAll, expect, inject, it } from "vitest";
import { allPages, client, eventually, fastEnv } from "./harness.ts";
import { type ServiceProcess, startProcess } from "./processes.ts";

/**
 * A Postgres of this file's own (the machine's is shared by every test file), stopped for five
 * seconds under traffic and started again on the same port and data; the services are real
 * processes that are never restarted.
 */
const region = "us-west-2";
const dataDir = join(tmpdir(), `cloudsim-pg-restart-${randomBytes(5).toString("hex")}`);
let port: number;
let postgres: PostgresHandle | undefined;
let databaseUrl: string;
const processes: ServiceProcess[] = [];
let api: ReturnType<typeof client>;

const startPostgres = async () => {
  postgres = await startEmbeddedPostgres({ dataDir, port });
};
const stopPostgres = async () => {
  await postgres?.stop();
  postgres = undefined;
};

beforeAll(async () => {
  port = await freePort();
  await startPostgres();
  databaseUrl = await ensureDatabase(postgres?.adminUrl ?? "", "cloudsim");
  const env = {
    ...fastEnv,
    LOG_LEVEL: "error",
    PROVISION_DELAY: "100ms",
    TERMINATE_DELAY: "100ms",
    REQUEST_TIMEOUT: "2s",
    OUTBOX_INTERVAL: "100ms",
    IP_CONFIRM_TIMEOUT: "2s",
    IP_RECONCILE_INTERVAL: "200ms",
    DATABASE_URL: databaseUrl,
    NATS_URL: inject("natsUrl"),
    NATS_SUBJECT_PREFIX: `t${randomBytes(5).toString("hex")}.`,
  };
  for (const name of ["ipam", "lifecycle", "billing", "gateway"] as const)
    processes.push(await startProcess(name, env));
  api = client(`http://127.0.0.1:${processes.at(-1)?.port}`);
}, 60_000);

afterAll(async () => {
  for (const p of processes) await p.stop();
  await stopPostgres();
  rmSync(dataDir, { recursive: true, force: true });
});

const readiness = async (p: ServiceProcess) =>
  (await fetch(`http://127.0.0.1:${p.port}/readyz`).catch(() => undefined))?.status;
const freeAddresses = async () =>
  (await api.get("/ipam/pools")).body.items.find((p: { region: string }) => p.region === region)
    .free as number;

it("answers 503 while Postgres is down, and loses nothing once it is back", async () => {
  const freeBefore = await freeAddresses();
  const refused: number[] = [];
  let outageOver = false;
  // Clients create and terminate servers until the outage is over, and a moment longer.
  const traffic = async () => {
    let after = 0;
    while (!outageOver || after++ < 5) {
      const created = await api.post("/servers", { region, type: "t2.nano" });
      if (created.status === 201) {
        const deleted = await api.call("DELETE", `/servers/${created.body.id}`);
        if (deleted.status !== 202) refused.push(deleted.status);
      } else {
        refused.push(created.status);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  };
  const services = processes.filter((p) => p.name !== "gateway");
  const notReady = new Set<string>();
  // What a query meets: the server going away under it, and no server at all.
  const pool = new pg.Pool({ connectionString: databaseUrl });
  pool.on("error", () => {});
  const caught = (query: Promise<unknown>) =>
    query.then(
      () => undefined,
      (err: unknown) => err,
    );
  const cutOff = caught(pool.query("SELECT pg_sleep(30)"));
  let refusedConnection: unknown;
  const outage = (async () => {
    await new Promise((r) => setTimeout(r, 500));
    await stopPostgres();
    refusedConnection = await caught(pool.query("SELECT 1"));
    const back = Date.now() + 5_000;
    while (Date.now() < back) {
      for (const p of services) if ((await readiness(p)) === 503) notReady.add(p.name);
      await new Promise((r) => setTimeout(r, 200));
    }
    await startPostgres();
    outageOver = true;
  })();
  await Promise.all([...Array.from({ length: 4 }, traffic), outage]);

  await pool.end();
  // Each is the database being away, answered UNAVAILABLE (503) wherever it is met.
  // drizzle wraps what node-postgres threw, as the cause of its own error.
  const wrapped = new Error("Failed query", { cause: refusedConnection });
  expect([await cutOff, refusedConnection, wrapped].map((err) => toAppError(err).code)).toEqual([
    "UNAVAILABLE",
    "UNAVAILABLE",
    "UNAVAILABLE",
  ]);
  // Every service said it was not ready while its database was gone.
  expect([...notReady].sort()).toEqual(services.map((p) => p.name).sort());
  // The outage was felt, and only as 503 (or 504, outcome unknown): never a 500 or a hang.
  expect(refused.length).toBeGreaterThan(0);
  expect(refused.filter((status) => status !== 503 && status !== 504)).toEqual([]);

  // Ready again without a restart.
  for (const p of processes)
    await eventually(
      async () => ((await readiness(p)) === 200 ? true : undefined),
      15_000,
      `${p.name} ready`,
    );

  // Timers fire and events flow: a new server runs, and its address comes back on terminate.
  const created = await api.post("/servers", { region, type: "t2.nano" });
  expect(created.status).toBe(201);
  await eventually(
    async () => ((await api.get(`/servers/${created.body.id}`)).body.state === "running" ? true : undefined),
    10_000,
    "new server running",
  );

  // Whatever the clients were told, every server is terminated in the end and every address is free.
  for (const id of (await allPages(api, `region=${region}`, 100)).flatMap((p) => p.ids))
    expect((await api.call("DELETE", `/servers/${id}`)).status).toBe(202);
  await eventually(
    async () =>
      (await allPages(api, `region=${region}`, 100)).flatMap((p) => p.ids).length === 0 ? true : undefined,
    15_000,
    "every server terminated",
  );
  await eventually(
    async () => ((await freeAddresses()) === freeBefore ? true : undefined),
    15_000,
    "all addresses free",
  );

  // The outboxes drained, and billing consumed every terminated server's events.
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    const count = async (sql: string) => (await db.query(sql)).rows[0].n as number;
    await eventually(
      async () => ((await count("SELECT count(*)::int AS n FROM lifecycle.outbox")) === 0 ? true : undefined),
      10_000,
      "lifecycle outbox drained",
    );
    await eventually(
      async () => ((await count("SELECT count(*)::int AS n FROM ipam.outbox")) === 0 ? true : undefined),
      10_000,
      "ipam outbox drained",
    );
    await eventually(
      async () => ((await count("SELECT count(*)::int AS n FROM billing.outbox")) === 0 ? true : undefined),
      10_000,
      "billing outbox drained",
    );
  } finally {
    await db.end();
  }
}, 90_000);
