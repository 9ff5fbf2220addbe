import { AppError, createRegistry, handlerMetrics, lifecycle } from "@cloudsim/shared";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { busOf, eventually, useStack } from "./harness.ts";

/** A transaction older than this while lifecycle hangs means the sweep holds one across its calls. */
const OLDEST_ALLOWED_MS = 2_000;
const IDLE_SERVERS = 3;

const ctx = useStack({
  env: {
    IDLE_TIMEOUT: "2s",
    REAPER_INTERVAL: "150ms",
    // One call at a time, each waiting the whole REQUEST_TIMEOUT: a sweep lasts several seconds.
    REAPER_CONCURRENCY: "1",
    REQUEST_TIMEOUT: "2s",
    PROVISION_DELAY: "100ms",
    STOP_DELAY: "100ms",
    TERMINATE_DELAY: "100ms",
  },
});
let db: pg.Client;

beforeAll(async () => {
  // As the admin: only a superuser sees the transactions of the services' roles.
  db = new pg.Client({ connectionString: inject("postgresAdminUrl") });
  await db.connect();
});
afterAll(async () => {
  await db?.end();
});

const api = () => ctx.api;

async function until(id: string, state: string, timeoutMs = 10_000) {
  await eventually(
    async () => ((await api().get(`/servers/${id}`)).body.state === state ? true : undefined),
    timeoutMs,
    `${id} ${state}`,
  );
}

async function stoppedServer(): Promise<string> {
  const created = await api().post("/servers", { region: "us-east-1", type: "t2.micro" });
  expect(created.status).toBe(201);
  await until(created.body.id, "running");
  expect((await api().post(`/servers/${created.body.id}/action`, { action: "stop" })).status).toBe(202);
  await until(created.body.id, "stopped");
  return created.body.id;
}

/** The age of the oldest open transaction on the test's database. */
async function oldestTransactionMs(): Promise<number> {
  const { rows } = await db.query<{ age_ms: number | null }>(
    `SELECT max(extract(epoch FROM clock_timestamp() - xact_start) * 1000)::float8 AS age_ms
       FROM pg_stat_activity WHERE datname = $1`,
    [ctx.stack.database.name],
  );
  return rows[0]?.age_ms ?? 0;
}

describe("a reaper sweep while lifecycle does not answer", () => {
  it("holds no transaction open across its calls, and the next sweep finishes the work", async () => {
    // Stopped together, they go idle together: one sweep takes them all.
    const ids = await Promise.all(Array.from({ length: IDLE_SERVERS }, stoppedServer));
    // The reaper knows them stopped (lifecycle's events reached it) before lifecycle goes, or
    // their events would wait in lifecycle's outbox and no sweep would find them.
    await eventually(
      async () =>
        (await api().get("/reaper/status")).body.watching?.stopped >= IDLE_SERVERS ? true : undefined,
      10_000,
      "the reaper watching the stopped servers",
    );

    // lifecycle goes; in its place something takes its requests and never answers them.
    const running = ctx.stack.services.find((s) => s.name === "lifecycle")?.running;
    if (!running) throw new Error("no lifecycle in the stack");
    await ctx.stack.stopService(running);
    const hung = await busOf(ctx.stack);
    let calls = 0;
    let release = () => {};
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    hung.serve(
      lifecycle.action,
      async () => {
        calls++;
        await released;
        throw new AppError("UNAVAILABLE", "lifecycle is down");
      },
      handlerMetrics(createRegistry("hung-lifecycle")),
    );

    try {
      // A sweep waits on lifecycle for each server in turn: watch the transactions until the
      // next sweep has begun.
      let oldest = 0;
      const watchUntil = Date.now() + 15_000;
      while (calls <= IDLE_SERVERS && Date.now() < watchUntil) {
        oldest = Math.max(oldest, await oldestTransactionMs());
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(calls, "a whole sweep asked lifecycle").toBeGreaterThan(IDLE_SERVERS);
      expect(oldest).toBeLessThan(OLDEST_ALLOWED_MS);
    } finally {
      release();
      await hung.close();
    }

    await ctx.stack.start("lifecycle");
    for (const id of ids) await until(id, "terminated", 15_000);
  });
});
