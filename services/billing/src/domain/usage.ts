import { amountFor } from "./money.ts";

/** A server's billing row, times in epoch milliseconds. */
export interface BilledServer {
  rate: bigint;
  amount: bigint;
  billedMs: bigint;
  openSince: bigint | null;
  accruedUntil: bigint | null;
}

/** The server's total at `now`: the ledger's plus the open interval from accrued_until to now. */
export function usageAt(server: BilledServer, now: bigint): { amount: bigint; billedMs: bigint } {
  let { amount, billedMs } = server;
  const { rate, openSince, accruedUntil } = server;
  if (openSince !== null && accruedUntil !== null) {
    const until = now > accruedUntil ? now : accruedUntil;
    amount += amountFor(rate, until - openSince) - amountFor(rate, accruedUntil - openSince);
    billedMs += until - accruedUntil;
  }
  return { amount, billedMs };
}
