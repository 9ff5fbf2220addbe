import { type SQL, sql } from "drizzle-orm";

/**
 * What `ms` milliseconds cost at `rate` per minute, in SQL: the same half-up rounding to
 * micro-units as amountFor in domain/money.ts, in exact NUMERIC arithmetic.
 */
export const amountSql = (rate: SQL, ms: SQL) =>
  sql`(div(2 * (${rate}) * 1000000000 * GREATEST(${ms}, 0) + 60000000, 120000000) * 1000 / 1000000000.0)::numeric(24, 9)`;

/** Milliseconds from `a` to `b`, as an exact number. */
export const msBetween = (a: SQL, b: SQL) => sql`(extract(epoch FROM (${b} - ${a})) * 1000)`;
