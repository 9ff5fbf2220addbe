import { randomBytes } from "node:crypto";
import { createTestDatabase, type TestDatabase } from "@cloudsim/shared/testing";
import pg from "pg";
import { afterAll, beforeAll, expect, inject, it } from "vitest";
import { eventually, fastEnv } from "./harness.ts";
import { type ServiceProcess, startProcess } from "./processes.ts";

/**
 * A service told to stop (SIGTERM) says it is not ready before anything else, answers so while
 * it drains, and exits after SHUTDOWN_GRACE even when draining never ends.
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
