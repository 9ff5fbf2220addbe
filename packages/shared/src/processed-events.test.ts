import { randomUUID } from "node:crypto";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createDatabase, type Database } from "./db.ts";
import { createLogger } from "./logger.ts";
import { processBatchOnce } from "./processed-events.ts";
import { createTestDatabase, type TestDatabase } from "./testing/postgres.ts";

const log = createLogger("test", "silent");

describe("processBatchOnce", () => {
  let database: TestDatabase;
  let db: Database;
  beforeAll(async () => {
    database = await createTestDatabase(inject("postgresAdminUrl"));
    db = createDatabase(database.url, 2, log);
    await db.pool.query(
      "CREATE SCHEMA t; CREATE TABLE t.processed_events (event_id uuid PRIMARY KEY, processed_at timestamptz NOT NULL DEFAULT now())",
    );
  });
  afterAll(async () => {
    await db?.pool.end();
    await database?.drop();
  });

  const run = async (ids: string[], fail = false) => {
    let fresh: Set<string> | undefined;
    await processBatchOnce(db.db, "t", ids, async (tx, ids) => {
      fresh = ids;
      await tx.execute(sql`SELECT 1`);
      if (fail) throw new Error("apply failed");
    });
    return fresh;
  };

  it("applies the ids never processed, in one transaction with their record", async () => {
    const [a, b, c] = [randomUUID(), randomUUID(), randomUUID()];
    expect(await run([a, b])).toEqual(new Set([a, b]));
    // Seen already (in any case of letters), or twice in one batch: each fresh id once.
    expect(await run([b, c, c, a.toUpperCase()])).toEqual(new Set([c]));
    expect(await run([a, b, c])).toBeUndefined();
    // A failed apply records nothing.
    const d = randomUUID();
    await expect(run([d], true)).rejects.toThrow("apply failed");
    expect(await run([d])).toEqual(new Set([d]));
  });
});
