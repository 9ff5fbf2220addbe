import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  createDatabase,
  createLogger,
  type Database,
  databaseLimitError,
  defaultDatabaseLimits,
  migrateSchema,
} from "@cloudsim/shared";
import { createTestDatabase, type TestDatabase } from "@cloudsim/shared/testing";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";

let database: TestDatabase;
let pool: Database;

beforeAll(async () => {
  database = await createTestDatabase(inject("postgresAdminUrl"));
  pool = createDatabase(database.url, 1, createLogger("test", "silent"), {
    limits: { ...defaultDatabaseLimits, DB_CONNECT_TIMEOUT: 300, DB_STATEMENT_TIMEOUT: 300 },
  });
});
afterAll(async () => {
  await pool?.pool.end();
  await database?.drop();
});

describe("the pool's limits", () => {
  it("cancels a statement past DB_STATEMENT_TIMEOUT, and that is 503 naming it", async () => {
    const failure = await pool.pool.query("SELECT pg_sleep(2)").then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(databaseLimitError(failure)).toMatchObject({
      code: "UNAVAILABLE",
      details: { limit: "DB_STATEMENT_TIMEOUT" },
      message: expect.stringContaining("DB_STATEMENT_TIMEOUT"),
    });
  });

  it("gives up waiting for a connection after DB_CONNECT_TIMEOUT, and that is 503 naming it", async () => {
    const held = await pool.pool.connect();
    try {
      const started = Date.now();
      const failure = await pool.pool.query("SELECT 1").then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(Date.now() - started).toBeLessThan(2_000);
      expect(databaseLimitError(failure)).toMatchObject({
        code: "UNAVAILABLE",
        details: { limit: "DB_CONNECT_TIMEOUT" },
      });
    } finally {
      held.release();
    }
  });

  it("leaves other failures alone", () => {
    expect(databaseLimitError(Object.assign(new Error("duplicate"), { code: "23505" }))).toBeUndefined();
  });
});

describe("the migration lock", () => {
  it("is waited for DB_MIGRATION_LOCK_TIMEOUT at most, and then names who holds it", async () => {
    const holder = new pg.Client({ connectionString: database.url, application_name: "other-replica" });
    await holder.connect();
    try {
      await holder.query("SELECT pg_advisory_lock(hashtext('migrate:someschema'))");
      const folder = await mkdtemp(join(tmpdir(), "migrations-"));
      const started = Date.now();
      const failure = migrateSchema(pool.pool, "someschema", folder, 300);
      await expect(failure).rejects.toThrow(
        /DB_MIGRATION_LOCK_TIMEOUT \(300 ms\).*pid \d+ \(other-replica, since /,
      );
      expect(Date.now() - started).toBeLessThan(2_000);
    } finally {
      await holder.end();
    }
  });
});
