import { sql } from "drizzle-orm";
import { bigint, jsonb, pgSchema, text, timestamp } from "drizzle-orm/pg-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createDatabase, type Database, inTransaction, rowInserter } from "./db.ts";
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
  it("inTransaction commits what fn did, or rolls it back when fn throws, and frees the client", async () => {
    await db.pool.query("CREATE TABLE tx_test (n int)");
    const insert = (n: number) => (client: { query(text: string): Promise<unknown> }) =>
      client.query(`INSERT INTO tx_test VALUES (${n})`);
    await inTransaction(db.pool, insert(1));
    await expect(
      inTransaction(db.pool, async (client) => {
        await insert(2)(client);
        throw new Error("fn failed");
      }),
    ).rejects.toThrow("fn failed");
    await inTransaction(db.pool, (client) => client.query("BEGIN; INSERT INTO tx_test VALUES (3); COMMIT"), {
      fnSendsBeginAndCommit: true,
    });
    // One connection in the pool: each call gave it back.
    expect((await db.pool.query("SELECT n FROM tx_test ORDER BY n")).rows).toEqual([{ n: 1 }, { n: 3 }]);
  });
});

describe("createDatabase with genericPlans", () => {
  it("runs every connection's prepared statements on a generic plan, and others on Postgres' choice", async () => {
    const database = await createTestDatabase(inject("postgresAdminUrl"));
    const generic = createDatabase(database.url, 2, createLogger("test", "silent"), { genericPlans: true });
    const chosen = createDatabase(database.url, 2, createLogger("test", "silent"));
    try {
      const mode = async (db: Database) =>
        (await db.pool.query<{ plan_cache_mode: string }>("SHOW plan_cache_mode")).rows[0]?.plan_cache_mode;
      expect(await mode(generic)).toBe("force_generic_plan");
      expect(await mode(chosen)).toBe("auto");
      const [answer] = (await generic.db.execute<{ n: number }>(sql`SELECT ${41}::int + 1 AS n`)).rows;
      expect(answer?.n).toBe(42);
    } finally {
      await generic.pool.end();
      await chosen.pool.end();
      await database.drop();
    }
  });
});

describe("rowInserter", () => {
  const shop = pgSchema("shop");
  const orders = shop.table("orders", {
    id: bigint("id", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    item: text("item").notNull(),
    quantity: bigint("quantity", { mode: "bigint" }).notNull(),
    placedAt: timestamp("placed_at", { withTimezone: true }).notNull(),
    details: jsonb("details"),
    note: text("note").default("none"),
  });
  const insertOrders = rowInserter(orders, ["item", "quantity", "placedAt", "details"]);
  let database: TestDatabase;
  let db: Database;
  beforeAll(async () => {
    database = await createTestDatabase(inject("postgresAdminUrl"));
    db = createDatabase(database.url, 2, createLogger("test", "silent"));
    await db.pool.query(`CREATE SCHEMA shop; CREATE TABLE shop.orders (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, item text NOT NULL, quantity bigint NOT NULL,
      placed_at timestamptz NOT NULL, details jsonb, note text DEFAULT 'none')`);
  });
  afterAll(async () => {
    await db?.pool.end();
    await database?.drop();
  });

  it("inserts rows in their order with their types, and the columns not named take their defaults", async () => {
    const at = new Date("2026-01-02T03:04:05.678Z");
    const rows = Array.from({ length: 30 }, (_, i) => ({
      item: `it"em ${i}`,
      quantity: 2n ** 62n + BigInt(i),
      placedAt: at,
      details: i % 2 ? { nested: { tags: ["a", "b"] } } : null,
    }));
    await db.db.execute(insertOrders(rows));
    await db.db.execute(insertOrders([]));
    const stored = await db.db.select().from(orders).orderBy(orders.id);
    expect(stored).toEqual(rows.map((row, i) => ({ ...row, id: i + 1, note: "none" })));
  });

  it("is one statement text whatever the number of rows", async () => {
    await db.db.execute(insertOrders([{ item: "a", quantity: 1n, placedAt: new Date(), details: null }]));
    await db.db.execute(
      insertOrders(
        Array.from({ length: 5 }, () => ({ item: "b", quantity: 2n, placedAt: new Date(), details: {} })),
      ),
    );
    const texts = await db.pool.query<{ n: string }>(
      "SELECT count(DISTINCT statement) AS n FROM pg_prepared_statements WHERE statement LIKE 'INSERT INTO \"shop\"%'",
    );
    expect(texts.rows[0]?.n).toBe("1");
  });
});
