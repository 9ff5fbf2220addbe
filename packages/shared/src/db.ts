import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { getTableColumns, type InferInsertModel, type SQL, sql } from "drizzle-orm";
import { drizzle, type NodePgDatabase } from "drizzle-orm/node-postgres";
import { migrate } from "drizzle-orm/node-postgres/migrator";
import { getTableConfig, type PgTable } from "drizzle-orm/pg-core";
import pg from "pg";
import { type DatabaseConfig, databaseConfig } from "./config.ts";
import { AppError } from "./errors.ts";
import type { Logger } from "./logger.ts";

export type Db = NodePgDatabase<Record<string, never>>;

export interface Database {
  pool: pg.Pool;
  db: Db;
}

/** How long a pool's connections may wait, in milliseconds (databaseConfig's DB_*_TIMEOUT). */
export type DatabaseLimits = Pick<
  DatabaseConfig,
  | "DB_CONNECT_TIMEOUT"
  | "DB_STATEMENT_TIMEOUT"
  | "DB_LOCK_TIMEOUT"
  | "DB_IDLE_IN_TRANSACTION_TIMEOUT"
  | "DB_MIGRATION_LOCK_TIMEOUT"
>;

/** The limits a pool has when its caller names none: databaseConfig's defaults. */
export const defaultDatabaseLimits: DatabaseLimits = databaseConfig.parse({});

/**
 * `genericPlans`: every prepared statement runs on one generic plan, not re-planned per call;
 * only for services whose statements are index lookups that any parameters plan the same.
 * `limits`: no connection, statement, lock or idle transaction waits without end.
 */
export function createDatabase(
  url: string,
  max: number,
  log: Logger,
  opts: { genericPlans?: boolean; limits?: DatabaseLimits } = {},
): Database {
  const limits = opts.limits ?? defaultDatabaseLimits;
  const pool = new pg.Pool({
    connectionString: url,
    max,
    connectionTimeoutMillis: limits.DB_CONNECT_TIMEOUT,
    statement_timeout: limits.DB_STATEMENT_TIMEOUT,
    lock_timeout: limits.DB_LOCK_TIMEOUT,
    idle_in_transaction_session_timeout: limits.DB_IDLE_IN_TRANSACTION_TIMEOUT,
    ...(opts.genericPlans ? { options: "-c plan_cache_mode=force_generic_plan" } : {}),
  });
  // An idle client losing its server must not crash the process; the next query reconnects.
  pool.on("error", (err) => log.warn({ err }, "idle postgres client failed"));
  pool.on("connect", preparing);
  // Nor one checked out between two queries (a relay publishing, a lock held): the pool listens
  // only to idle clients, and an 'error' without a listener ends the process. The next query on
  // it fails, and the pool drops it on release.
  pool.on("connect", (client) =>
    client.on("error", (err) => log.warn({ err }, "postgres connection lost while checked out")),
  );
  return { pool, db: drizzle(pool) };
}

/** Distinct statement texts prepared by this process, at most: generated texts (a VALUES list per row count) stay bounded. */
const MAX_PREPARED_TEXTS = 200;
const statementNames = new Map<string, string>();

/** The name a statement text is prepared under, the same on every connection of this process. */
function statementName(text: string): string | undefined {
  let name = statementNames.get(text);
  if (name === undefined && statementNames.size < MAX_PREPARED_TEXTS) {
    name = `cloudsim_${statementNames.size}`;
    statementNames.set(text, name);
  }
  return name;
}

type QueryArgs = [config: unknown, values?: unknown, callback?: unknown];

/**
 * Makes a client run every statement that has parameters as a named prepared statement, so
 * Postgres plans each text once per connection. Texts without parameters (migrations, BEGIN)
 * still go as simple queries, so several can share one round trip.
 */
function preparing(client: pg.PoolClient): void {
  const query = client.query.bind(client) as (...args: QueryArgs) => unknown;
  const prepared = (...[config, values, callback]: QueryArgs) => {
    const statement = typeof config === "string" ? { text: config } : (config as pg.QueryConfig);
    const params = Array.isArray(values) ? values : statement?.values;
    const name =
      statement && !statement.name && typeof statement.text === "string" && params?.length
        ? statementName(statement.text)
        : undefined;
    return query(name ? { ...statement, name } : config, values, callback);
  };
  Object.assign(client, { query: prepared });
}

/**
 * Applies a service's drizzle-kit migrations to its own schema. Replicas starting together
 * take turns on an advisory lock keyed by the schema name, so each migration runs once. The
 * lock is waited for `lockTimeoutMs` at most; then the error says who holds it. Migrations may
 * rewrite big tables, so their statements run without the pool's statement timeout.
 */
export async function migrateSchema(
  pool: pg.Pool,
  schema: string,
  migrationsFolder: string,
  lockTimeoutMs = defaultDatabaseLimits.DB_MIGRATION_LOCK_TIMEOUT,
): Promise<void> {
  const key = `migrate:${schema}`;
  const client = await pool.connect();
  try {
    await client.query(`SET statement_timeout = 0; SET lock_timeout = ${Math.round(lockTimeoutMs)}`);
    try {
      await client.query("SELECT pg_advisory_lock(hashtext($1))", [key]);
    } catch (err) {
      if (pgCode(err) !== LOCK_NOT_AVAILABLE) throw err;
      throw await migrationLockTaken(client, key, lockTimeoutMs);
    }
    await client.query("SET lock_timeout = 0");
    await migrate(drizzle(client), {
      migrationsFolder,
      migrationsSchema: schema,
      migrationsTable: "migrations",
    });
  } finally {
    await client.query("SELECT pg_advisory_unlock(hashtext($1))", [key]).catch(() => {});
    // The pool's limits come back for the next user of this connection.
    await client.query("RESET statement_timeout; RESET lock_timeout").catch(() => {});
    client.release();
  }
}

/** Who holds the migration lock `key` (pg_locks of advisory locks on one bigint: classid high, objid low). */
async function migrationLockTaken(client: pg.PoolClient, key: string, lockTimeoutMs: number): Promise<Error> {
  const { rows } = await client
    .query<{ pid: number; application_name: string; since: Date | null }>(
      `SELECT a.pid, a.application_name, a.xact_start AS since
         FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
        WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
          AND ((l.classid::bigint << 32) | l.objid::bigint) = hashtext($1)::bigint`,
      [key],
    )
    .catch(() => ({ rows: [] }));
  const holders = rows.map(
    (r) =>
      `pid ${r.pid} (${r.application_name || "no application_name"}, since ${r.since?.toISOString() ?? "?"})`,
  );
  return new Error(
    `the migration lock ${key} was not free within DB_MIGRATION_LOCK_TIMEOUT (${lockTimeoutMs} ms); held by ${holders.join(", ") || "nobody any more"}`,
  );
}

/**
 * Runs `fn` in one transaction on a client of `pool`: COMMIT when it returns, ROLLBACK when it
 * throws (a failed ROLLBACK is ignored, so `fn`'s error is the one that comes out).
 * `fnSendsBeginAndCommit`: `fn` puts BEGIN in its first statement and COMMIT in its last,
 * saving two round trips on a hot loop.
 */
export async function inTransaction<T>(
  pool: pg.Pool,
  fn: (client: pg.PoolClient) => Promise<T>,
  opts: { fnSendsBeginAndCommit?: boolean } = {},
): Promise<T> {
  const client = await pool.connect();
  try {
    if (!opts.fnSendsBeginAndCommit) await client.query("BEGIN");
    const result = await fn(client);
    if (!opts.fnSendsBeginAndCommit) await client.query("COMMIT");
    return result;
  } catch (err) {
    await client.query("ROLLBACK").catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}

export async function pingDatabase(pool: pg.Pool): Promise<void> {
  await pool.query("SELECT 1");
}

/** Postgres error code for a unique violation. */
export const UNIQUE_VIOLATION = "23505";
const LOCK_NOT_AVAILABLE = "55P03";

/** The Postgres error behind `err` (drizzle wraps it in its own, as `cause`). */
function pgError(err: unknown): { code?: string; constraint?: string } | undefined {
  return ((err as { cause?: unknown })?.cause ?? err) as { code?: string; constraint?: string } | undefined;
}

const pgCode = (err: unknown) => pgError(err)?.code;

export function isUniqueViolation(err: unknown, constraint?: string): boolean {
  const pgErr = pgError(err);
  return pgErr?.code === UNIQUE_VIOLATION && (constraint === undefined || pgErr.constraint === constraint);
}

/** pg-pool's error for a connection not had within connectionTimeoutMillis: it has no code, only this. */
const isConnectTimeout = (err: unknown) =>
  (pgError(err) as { message?: unknown } | undefined)?.message === "timeout exceeded when trying to connect";

/** SQLSTATEs of a limit the pool set (createDatabase), and the variable that sets it. */
const limitOfCode: Record<string, keyof DatabaseLimits> = {
  "57014": "DB_STATEMENT_TIMEOUT", // query_canceled
  "25P03": "DB_IDLE_IN_TRANSACTION_TIMEOUT", // idle_in_transaction_session_timeout
  [LOCK_NOT_AVAILABLE]: "DB_LOCK_TIMEOUT",
};

/**
 * A database limit that was hit, as 503 UNAVAILABLE naming it (retrying later may succeed),
 * or undefined for any other failure. Handlers' errors pass through it before they become 500s.
 */
export function databaseLimitError(err: unknown): AppError | undefined {
  const limit = isConnectTimeout(err) ? "DB_CONNECT_TIMEOUT" : limitOfCode[pgCode(err) ?? ""];
  if (!limit) return undefined;
  return new AppError(
    "UNAVAILABLE",
    `the database gave up on this request: ${limit} was reached; try again later`,
    { limit },
    { cause: err },
  );
}

/** JSON for Postgres: bigints as their digits (JSON.stringify refuses them). */
const toJson = (value: unknown) =>
  JSON.stringify(value, (_, v) => (typeof v === "bigint" ? v.toString() : v));

/**
 * Inserts rows of `table` setting `columns`, in their order, as one `INSERT … SELECT … FROM
 * jsonb_to_recordset($1)`: any batch size is one statement text (one prepared statement).
 * The SQL it returns can stand alone or be a CTE of a bigger write.
 */
export function rowInserter<T extends PgTable, K extends keyof InferInsertModel<T> & string>(
  table: T,
  columns: readonly K[],
): (rows: readonly Pick<InferInsertModel<T>, K>[]) => SQL {
  const { name, schema } = getTableConfig(table);
  const all = getTableColumns(table) as Record<string, { name: string; getSQLType(): string }>;
  const targets = columns.map((key) => {
    const column = all[key];
    if (!column) throw new Error(`${name} has no column ${key}`);
    return column;
  });
  const list = targets.map((c) => `"${c.name}"`).join(", ");
  const head = sql.raw(
    `INSERT INTO "${schema ?? "public"}"."${name}" (${list}) SELECT ${list} FROM ROWS FROM (jsonb_to_recordset(`,
  );
  const tail = sql.raw(
    `::jsonb) AS (${targets.map((c) => `"${c.name}" ${c.getSQLType()}`).join(", ")})) WITH ORDINALITY AS t ORDER BY t.ordinality`,
  );
  return (rows) => {
    const byColumn = rows.map((row) =>
      Object.fromEntries(columns.map((key, i) => [targets[i]?.name, (row as Record<string, unknown>)[key]])),
    );
    return sql`${head}${toJson(byColumn)}${tail}`;
  };
}

/** A time of a service's Clock as a timestamptz parameter: SQL never reads Postgres' own clock. */
export const timeSql = (at: Date) => sql`${at.toISOString()}::timestamptz`;

/**
 * A service's migrations folder, beside its code (`./db/migrations` from `moduleUrl`, the
 * service's import.meta.url), or under its schema's name there in the one-process bundle, where
 * every service's code shares one folder (scripts/build.ts copies each to db/migrations/<schema>).
 */
export function migrationsFolder(moduleUrl: string, schema: string): string {
  const shared = fileURLToPath(new URL(`./db/migrations/${schema}`, moduleUrl));
  return existsSync(join(shared, "meta")) ? shared : fileURLToPath(new URL("./db/migrations", moduleUrl));
}
