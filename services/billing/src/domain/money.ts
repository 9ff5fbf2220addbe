/**
 * Money is exact: amounts and rates are bigint nano-units (1e-9 of the currency) in code,
 * NUMERIC in Postgres and decimal strings on the wire. Every amount billed is rounded (half
 * up) to micro-units, so amounts always print exactly with 6 decimals.
 */
export const NANOS = 1_000_000_000n;
const MICRO_IN_NANOS = 1_000n;
const MS_PER_MINUTE = 60_000n;

const decimal = /^(\d+)(?:\.(\d{1,9}))?$/;

/** "0.015" → 15_000_000n. Throws on anything but a non-negative decimal with at most 9 decimals. */
export function parseMoney(text: string): bigint {
  const match = decimal.exec(text.trim());
  if (!match) throw new Error(`"${text}" is not a decimal amount with at most 9 decimals`);
  const [, whole = "0", fraction = ""] = match;
  return BigInt(whole) * NANOS + BigInt(fraction.padEnd(9, "0"));
}

/** A NUMERIC from Postgres ("-0.015000000") → nano-units. */
export function moneyFromDb(text: string): bigint {
  const negative = text.startsWith("-");
  const nanos = parseMoney(negative ? text.slice(1) : text);
  return negative ? -nanos : nanos;
}

/** Nano-units → a NUMERIC literal for Postgres. */
export function moneyToDb(nanos: bigint): string {
  const negative = nanos < 0n;
  const abs = negative ? -nanos : nanos;
  return `${negative ? "-" : ""}${abs / NANOS}.${(abs % NANOS).toString().padStart(9, "0")}`;
}

/** 15_000_000n → "0.015000": at least 6 decimals, more only when the amount has them. */
export function formatMoney(nanos: bigint): string {
  const negative = nanos < 0n;
  const abs = negative ? -nanos : nanos;
  const whole = abs / NANOS;
  let fraction = (abs % NANOS).toString().padStart(9, "0");
  while (fraction.length > 6 && fraction.endsWith("0")) fraction = fraction.slice(0, -1);
  return `${negative ? "-" : ""}${whole}.${fraction}`;
}

/** a / b rounded half up, for a ≥ 0 and b > 0. The same formula as `amountSql`. */
export function divRoundHalfUp(a: bigint, b: bigint): bigint {
  return (2n * a + b) / (2n * b);
}

/**
 * What `ms` milliseconds cost at `ratePerMinute` (nano-units per minute), in nano-units,
 * rounded half up to micro-units. Billing one interval in pieces uses the difference of this
 * function at the ends of each piece, so the pieces add up to exactly the whole.
 */
export function amountFor(ratePerMinute: bigint, ms: bigint): bigint {
  if (ms <= 0n) return 0n;
  return divRoundHalfUp(ratePerMinute * ms, MS_PER_MINUTE * MICRO_IN_NANOS) * MICRO_IN_NANOS;
}

/** Seconds with milliseconds, for display. */
export const secondsOf = (ms: bigint | number): number => Number(ms) / 1000;
