import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import { type Clock, createDatabase, createLogger, type Database, migrateSchema } from "@cloudsim/shared";
import { createTestDatabase, type TestDatabase } from "@cloudsim/shared/testing";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { Candidate } from "./repository.ts";
import { ReaperRepository } from "./repository.ts";

const log = createLogger("test", "silent");
const folder = fileURLToPath(new URL("./migrations", import.meta.url));
const IDLE_MS = 30 * 60_000;

/** A clock of the test's own, years ahead of the machine's: idle time is judged on it alone. */
let now = Date.parse("2030-01-01T00:00:00.000Z");
const clock: Clock = { now: () => now };

describe("the reaper on its clock", () => {
  let testDb: TestDatabase;
  let database: Database;
  let repo: ReaperRepository;
  beforeAll(async () => {
    testDb = await createTestDatabase(inject("postgresAdminUrl"));
    database = createDatabase(testDb.url, 3, log);
    await migrateSchema(database.pool, "reaper", folder);
    repo = new ReaperRepository(database.db, database.pool, clock);
  });
  afterAll(async () => {
    await database?.pool.end();
    await testDb?.drop();
  });

  const sweep = (reap: (c: Candidate) => Promise<"reaped" | "spared">) =>
    repo.sweep({ idleMs: IDLE_MS, batch: 10, dryRun: false, concurrency: 1 }, reap);

  it("finds a server idle, sweeps it and stamps the decision and the sweep at the clock's times", async () => {
    const serverId = randomUUID();
    const stoppedAt = now;
    await repo.recordStates([
      { serverId, state: "stopped", at: new Date(stoppedAt), exempt: false, tenantId: "t", actor: "user" },
    ]);
    // Stopped just now on the clock: not idle, nothing to sweep.
    expect(await repo.watching(IDLE_MS, null)).toEqual({ stopped: 1, idle: 0 });
    expect(await sweep(async () => "reaped")).toMatchObject({ candidates: 0, startedAt: new Date(now) });

    // Half an hour and a minute later on the clock (no time at all on the machine's): idle.
    now += IDLE_MS + 60_000;
    expect(await repo.watching(IDLE_MS, null)).toEqual({ stopped: 1, idle: 1 });
    const startedAt = now;
    const seen: Candidate[] = [];
    const result = await sweep(async (candidate) => {
      seen.push(candidate);
      now += 1000; // the decision takes a second of the clock
      return "reaped";
    });
    expect(seen.map((c) => c.serverId)).toEqual([serverId]);
    expect(result).toMatchObject({
      candidates: 1,
      reaped: 1,
      startedAt: new Date(startedAt),
      finishedAt: new Date(startedAt + 1000),
    });
    const { rows } = await database.pool.query<{ decided_at: Date; outcome: string }>(
      "SELECT decided_at, outcome FROM reaper.watched WHERE server_id = $1",
      [serverId],
    );
    expect(rows).toEqual([{ decided_at: new Date(startedAt + 1000), outcome: "reaped" }]);
    expect(await repo.lastSweep(null)).toMatchObject({
      startedAt: new Date(startedAt),
      finishedAt: new Date(startedAt + 1000),
    });
  });

  it("records a termination the reaper asked for as decided at the clock's time", async () => {
    const serverId = randomUUID();
    const stoppedAt = now;
    await repo.recordStates([
      { serverId, state: "stopped", at: new Date(stoppedAt), exempt: false, tenantId: "t", actor: "user" },
    ]);
    now += 5000;
    await repo.recordStates([
      { serverId, state: "terminating", at: new Date(now), exempt: false, tenantId: "t", actor: "reaper" },
    ]);
    const { rows } = await database.pool.query<{ decided_at: Date; outcome: string }>(
      "SELECT decided_at, outcome FROM reaper.watched WHERE server_id = $1",
      [serverId],
    );
    expect(rows).toEqual([{ decided_at: new Date(now), outcome: "reaped" }]);
  });
});
