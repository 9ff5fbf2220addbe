import { sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/node-postgres";
import pg from "pg";
import { afterAll, describe, expect, inject, it } from "vitest";
import { idleCases, isIdleCase } from "../domain/idle-cases.ts";
import { isIdleSql } from "./idle-sql.ts";

describe("isIdleSql", () => {
  // A bare SELECT: no table, so the server's own database serves.
  const pool = new pg.Pool({ connectionString: inject("postgresAdminUrl"), max: 1 });
  const db = drizzle(pool);
  afterAll(() => pool.end());
  const now = new Date("2026-01-01T00:00:00Z");

  it.each(idleCases)("$name: idle $idle, as isIdle says", async (c) => {
    const since = new Date(now.getTime() - c.forMs).toISOString();
    const { rows } = await db.execute<{ idle: boolean }>(
      sql`SELECT ${isIdleSql(sql`${c.state}::text`, sql`${since}::timestamptz`, sql`${now.toISOString()}::timestamptz`, c.timeoutMs)} AS idle`,
    );
    expect(rows[0]?.idle).toBe(c.idle);
    expect(rows[0]?.idle).toBe(isIdleCase(c, now));
  });
});
