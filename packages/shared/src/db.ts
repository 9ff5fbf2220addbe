import { drizzle, type NodePgDatabase } from "drizzle-orm/node-postgres";
import { migrate } from "drizzle-orm/node-postgres/migrator";
import pg from "pg";
import type { Logger } from "./logger.ts";

export type Db = NodePgDatabase<Record<string, never>>;

export interface Database {
  pool: pg.Pool;
  db: Db;
}

export function createDatabase(url: string, max: number, log: Logger): Database {
  const pool = new pg.Pool({ connectionString: url, max });
  // An idle client losing its server must not crash the process; the next query reconnects.
  pool.on("error", (err) => log.warn({ err }, "idle postgres client failed"));
  return { pool, db: drizzle(pool) };
}

/**
 * Applies a service's drizzle-kit migrations to its own schema. Replicas starting together
 * take turns on an advisory lock keyed by the schema name, so each migration runs once.
 */
export async function migrateSchema(pool: pg.Pool, schema: string, migrationsFolder: string): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query("SELECT pg_advisory_lock(hashtext($1))", [`migrate:${schema}`]);
    await migrate(drizzle(client), {
      migrationsFolder,
      migrationsSchema: schema,
      migrationsTable: "migrations",
    });
  } finally {
    await client.query("SELECT pg_advisory_unlock(hashtext($1))", [`migrate:${schema}`]).catch(() => {});
    client.release();
  }
}

export async function pingDatabase(pool: pg.Pool): Promise<void> {
  await pool.query("SELECT 1");
}

/** Postgres error code for a unique violation. */
export const UNIQUE_VIOLATION = "23505";

export function isUniqueViolation(err: unknown, constraint?: string): boolean {
  const e = (err as { cause?: unknown })?.cause ?? err;
  const pgErr = e as { code?: string; constraint?: string };
  return pgErr?.code === UNIQUE_VIOLATION && (constraint === undefined || pgErr.constraint === constraint);
}
