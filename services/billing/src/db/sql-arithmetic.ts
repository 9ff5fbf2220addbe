import { type SQL, sql } from "drizzle-orm";

/**
 * What `ms` milliseconds cost at `rate` per minute, in SQL: the same half-up rounding to
 * micro-units as amountFor in domain/money.ts, in exact NUMERIC arithmetic.
 */
export const amountSql = (rate: SQL, ms: SQL) =>
  sql`(div(2 * (${rate}) * 1000000000 * GREATEST(${ms}, 0) + 60000000, 120000000) * 1000 / 1000000000.0)::numeric(24, 9)`;

/**
 * What `sizeGb` GB kept for `ms` milliseconds cost at `rate` per GB-month (730 h), in SQL: the
 * same half-up rounding to micro-units as volumeAmountFor in domain/volume-bill.ts.
 */
export const volumeAmountSql = (rate: SQL, sizeGb: SQL, ms: SQL) =>
  sql`(div(2 * (${rate}) * 1000000000 * (${sizeGb}) * GREATEST(${ms}, 0) + 2628000000000, 5256000000000) * 1000 / 1000000000.0)::numeric(24, 9)`;

/** Milliseconds from `a` to `b`, as an exact number. */
export const msBetween = (a: SQL, b: SQL) => sql`(extract(epoch FROM (${b} - ${a})) * 1000)`;
