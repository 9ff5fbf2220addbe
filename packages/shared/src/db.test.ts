import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createDatabase, type Database } from "./db.ts";
import { createLogger } from "./logger.ts";
import { createTestDatabase, type TestDatabase } from "./testing/postgres.ts";

describe("createDatabase", () => {
  let database: TestDatabase;
  let db: Database;
  beforeAll(async () => {
    database = await createTestDatabase(inject("postgresAdminUrl"));
    // One connection, so the statements prepared are all on the one the checks look at.
    db = createDatabase(database.url, 1, createLogger("test", "silent"));
  });
  afterAll(async () => {
    await db?.pool.end();
    await database?.drop();
  });

  const prepared = async () =>
    (await db.pool.query<{ statement: string }>("SELECT statement FROM pg_prepared_statements")).rows.map(
      (r) => r.statement,
    );

  it("prepares a statement with parameters once per connection and reuses it", async () => {
    const text = "SELECT $1::int + 1 AS n";
    for (const n of [1, 2, 3]) {
      expect((await db.pool.query(text, [n])).rows).toEqual([{ n: n + 1 }]);
    }
    const [answer] = (await db.db.execute<{ n: number }>(sql`SELECT ${41}::int + 1 AS n`)).rows;
    expect(answer?.n).toBe(42);
    const statements = await prepared();
    // The drizzle statement has the same text, so it ran as the same prepared statement.
    expect(statements.filter((s) => s === text)).toHaveLength(1);
  });

  it("leaves statements without parameters unprepared, so several can go in one query", async () => {
    const results = await db.pool.query("SELECT 1 AS a; SELECT 2 AS b");
    expect(Array.isArray(results)).toBe(true);
    expect(await prepared()).not.toContain("SELECT 1 AS a; SELECT 2 AS b");
  });

  it("still answers a statement whose parameters are invalid, and the next call works", async () => {
    await expect(db.pool.query("SELECT $1::int AS n", ["not a number"])).rejects.toThrow(/invalid input/);
    expect((await db.pool.query("SELECT $1::int AS n", [7])).rows).toEqual([{ n: 7 }]);
  });
});
