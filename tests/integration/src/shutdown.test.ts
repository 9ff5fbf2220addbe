import { randomBytes } from "node:crypto";
import { createTestDatabase, type TestDatabase } from "@cloudsim/shared/testing";
import pg from "pg";
import { afterAll, beforeAll, expect, inject, it } from "vitest";
import { client, eventually, fastEnv } from "./harness.ts";
import { type ServiceProcess, startProcess } from "./processes.ts";

/**
 * A service told to stop (SIGTERM) says it is not ready before anything else, answers so while
 * it drains, and exits after SHUTDOWN_GRACE even when draining never ends; a reaper that ends so
 * in the middle of a sweep leaves each decision it acted on recorded.
 */
let database: TestDatabase;
let env: Record<string, string | undefined>;

beforeAll(async () => {
  database = await createTestDatabase(inject("postgresAdminUrl"));
  env = {
    ...fastEnv,
    LOG_LEVEL: "info",
    DATABASE_URL: database.url,
    NATS_URL: inject("natsUrl"),
    NATS_SUBJECT_PREFIX: `t${randomBytes(5).toString("hex")}.`,
  };
});
afterAll(async () => {
  await database?.drop();
});

const readyz = async (p: ServiceProcess) => {
  const response = await fetch(`http://127.0.0.1:${p.port}/readyz`).catch(() => undefined);
  return response && { status: response.status, body: await response.json() };
};
const exited = (p: ServiceProcess) =>
  new Promise<number | null>((resolve) => {
    if (p.child.exitCode !== null || p.child.signalCode !== null) resolve(p.child.exitCode);
    else p.child.once("exit", (code) => resolve(code));
  });

it("flips /readyz to 503 at SIGTERM and exits after SHUTDOWN_GRACE when it cannot drain", async () => {
  const lifecycle = await startProcess("lifecycle", { ...env, SHUTDOWN_GRACE: "1s" });
  await eventually(async () => ((await readyz(lifecycle))?.status === 200 ? true : undefined));

  // Its timer (every 25 ms) waits on this lock, so stopping its workers cannot finish.
  const locker = new pg.Client({ connectionString: database.url });
  await locker.connect();
  try {
    await locker.query("BEGIN; LOCK TABLE lifecycle.servers IN ACCESS EXCLUSIVE MODE");
    await new Promise((r) => setTimeout(r, 200));
    const sentAt = Date.now();
    const exit = exited(lifecycle);
    lifecycle.child.kill("SIGTERM");

    const draining = await eventually(async () => {
      const answer = await readyz(lifecycle);
      return answer?.status === 200 ? undefined : answer;
    });
    // Not ready, and still answering: no new work comes while what is in hand drains.
    expect(draining).toEqual({ status: 503, body: { ready: false, checks: { shutdown: "draining" } } });

    expect(await exit).toBe(1);
    const stoppedAfterMs = Date.now() - sentAt;
    expect(stoppedAfterMs).toBeGreaterThanOrEqual(1_000);
    expect(stoppedAfterMs).toBeLessThan(5_000);
    const gaveUp = lifecycle.output
      .join("")
      .split("\n")
      .filter((line) => line.includes("SHUTDOWN_GRACE"))
      .map((line) => JSON.parse(line));
    expect(gaveUp).toEqual([
      expect.objectContaining({
        level: "error",
        abandoned: [
          "background workers",
          "NATS handlers and subscriptions",
          "Postgres connections",
          "health server",
        ],
      }),
    ]);
  } finally {
    await locker.end();
  }
}, 30_000);

it("exits 0 once drained when nothing holds it", async () => {
  const lifecycle = await startProcess("lifecycle", env);
  await eventually(async () => ((await readyz(lifecycle))?.status === 200 ? true : undefined));
  const exit = exited(lifecycle);
  lifecycle.child.kill("SIGTERM");
  expect(await exit).toBe(0);
  expect(lifecycle.output.join("")).not.toContain("SHUTDOWN_GRACE");
}, 30_000);

it("a reaper stopped mid-sweep leaves no decision half-recorded", async () => {
  const quick = { ...env, STOP_DELAY: "100ms", TERMINATE_DELAY: "100ms", LOG_LEVEL: "warn" };
  const reaperEnv = {
    ...quick,
    IDLE_TIMEOUT: "2s",
    REAPER_INTERVAL: "200ms",
    REQUEST_TIMEOUT: "10s",
    SHUTDOWN_GRACE: "500ms",
  };
  const others: ServiceProcess[] = [];
  for (const name of ["ipam", "lifecycle", "gateway"] as const) others.push(await startProcess(name, quick));
  const firstReaper = await startProcess("reaper", reaperEnv);
  let nextReaper: ServiceProcess | undefined;
  const api = client(`http://127.0.0.1:${others.at(-1)?.port}`);
  const locker = new pg.Client({ connectionString: database.url });
  await locker.connect();
  try {
    const state = async (id: string) => (await api.get(`/servers/${id}`)).body.state as string;
    const ids: string[] = [];
    for (let i = 0; i < 3; i++)
      ids.push((await api.post("/servers", { region: "eu-west-1", type: "t2.nano" })).body.id);
    for (const id of ids) await eventually(async () => ((await state(id)) === "running" ? true : undefined));
    // Stopped together, so one sweep finds them idle together.
    for (const id of ids) await api.post(`/servers/${id}/action`, { action: "stop" });
    const watchedStopped = async () =>
      (
        await locker.query(
          "SELECT count(*)::int AS n FROM reaper.watched WHERE server_id = ANY($1) AND state = 'stopped'",
          [ids],
        )
      ).rows[0].n as number;
    await eventually(async () => ((await watchedStopped()) === ids.length ? true : undefined));

    // Before they are idle, their rows in lifecycle are held: the sweep asks lifecycle to
    // terminate them, and lifecycle waits for the rows while the reaper is told to stop.
    await locker.query("BEGIN");
    await locker.query("SELECT 1 FROM lifecycle.servers WHERE id = ANY($1) FOR UPDATE", [ids]);
    await eventually(
      async () => {
        const waiting = await locker.query(
          "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
        );
        return waiting.rows[0].n >= 1 ? true : undefined;
      },
      10_000,
      "lifecycle asked by the reaper, waiting for the rows",
    );
    await firstReaper.stop();
    expect(firstReaper.child.exitCode).toBe(1);
    // lifecycle goes on and terminates them, answering a reaper that is gone.
    await locker.query("ROLLBACK");

    nextReaper = await startProcess("reaper", reaperEnv);
    for (const id of ids)
      await eventually(async () => ((await state(id)) === "terminated" ? true : undefined));
    const reaperEntries = async (id: string) =>
      (await api.get(`/servers/${id}/logs?limit=100`)).body.items.filter(
        (e: { actor: string }) => e.actor === "reaper",
      ).length;
    expect(await Promise.all(ids.map(reaperEntries))).toEqual(ids.map(() => 1));
    // What lifecycle did at the reaper's word, the reaper counts as reaped, once it has heard
    // the servers ended: neither forgotten nor recorded as spared when a sweep finds them changed.
    const watched = async () =>
      (await locker.query("SELECT state, outcome FROM reaper.watched WHERE server_id = ANY($1)", [ids])).rows;
    await eventually(async () =>
      (await watched()).every((w) => w.state === "terminated") ? true : undefined,
    );
    expect(await watched()).toEqual(ids.map(() => ({ state: "terminated", outcome: "reaped" })));
  } finally {
    await locker.end();
    await nextReaper?.stop();
    for (const p of others.reverse()) await p.stop();
  }
}, 60_000);
