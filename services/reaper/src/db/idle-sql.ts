import { type AnyColumn, type SQL, sql } from "drizzle-orm";

/**
 * isIdle (domain/idle.ts) as an SQL predicate: the rule the sweep and the status run, held to
 * isIdle's own cases by idle-sql.test.ts.
 */
export function isIdleSql(
  state: AnyColumn | SQL,
  stateSince: AnyColumn | SQL,
  now: AnyColumn | SQL,
  timeoutMs: number,
): SQL {
  return sql`(${state} = 'stopped' AND ${stateSince} < ${now} - make_interval(secs => ${timeoutMs / 1000}))`;
}
