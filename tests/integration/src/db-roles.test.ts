import { ensureSchemaOwners, schemaOwners } from "@cloudsim/shared/testing";
import pg from "pg";
import { beforeAll, describe, expect, it } from "vitest";
import { useStack } from "./harness.ts";

const ctx = useStack();
beforeAll(async () => {
  // A server, so every schema has rows to be refused.
  expect((await ctx.api.post("/servers", { region: "us-east-1", type: "t2.micro" })).status).toBe(201);
});

async function asRole<T>(url: string, run: (db: pg.Client) => Promise<T>): Promise<T> {
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  try {
    return await run(db);
  } finally {
    await db.end();
  }
}

describe("each service's own Postgres role", () => {
  it("owns its schema and every table in it", async () => {
    const owners = await asRole(ctx.stack.database.url, async (db) =>
      db.query<{ schema: string; owner: string }>(
        `SELECT n.nspname AS schema, pg_get_userbyid(c.relowner) AS owner
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = ANY($1) AND c.relkind = 'r'`,
        [schemaOwners],
      ),
    );
    expect(owners.rows.length).toBeGreaterThan(10);
    for (const row of owners.rows) expect(row.owner).toBe(row.schema);
  });

  it("is refused by Postgres on every other service's schema", async () => {
    const urls = await ensureSchemaOwners(ctx.stack.database.url);
    await asRole(urls.lifecycle, async (db) => {
      expect((await db.query("SELECT count(*)::int AS n FROM lifecycle.servers")).rows[0].n).toBe(1);
      await expect(db.query("SELECT * FROM billing.ledger")).rejects.toThrow(/permission denied/);
      await expect(db.query("SELECT * FROM ipam.addresses LIMIT 1")).rejects.toThrow(/permission denied/);
      await expect(db.query("DELETE FROM reaper.watched")).rejects.toThrow(/permission denied/);
    });
    await asRole(urls.billing, async (db) => {
      await expect(db.query("SELECT * FROM lifecycle.servers")).rejects.toThrow(/permission denied/);
    });
  });
});
