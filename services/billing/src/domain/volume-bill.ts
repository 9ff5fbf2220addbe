import type { VolumeState } from "@cloudsim/shared";
import { divRoundHalfUp } from "./money.ts";

/** A GB-month, as AWS prices EBS: 730 hours, in milliseconds. */
export const MS_PER_GB_MONTH = 730n * 3_600_000n;
const MICRO_IN_NANOS = 1_000n;

/** States a volume is billed in: it exists, attached or not. Deleting ends its billing. */
export const billableVolumeStates: ReadonlySet<VolumeState> = new Set(["creating", "available", "in-use"]);

/**
 * What `sizeGb` GB kept for `ms` milliseconds cost at `ratePerGbMonth` (nano-units), in
 * nano-units rounded half up to micro-units. The same formula as `volumeAmountSql`; pieces of
 * one period billed as differences of this function add up to exactly the whole.
 */
export function volumeAmountFor(ratePerGbMonth: bigint, sizeGb: number, ms: bigint): bigint {
  if (ms <= 0n) return 0n;
  return (
    divRoundHalfUp(ratePerGbMonth * BigInt(sizeGb) * ms, MS_PER_GB_MONTH * MICRO_IN_NANOS) * MICRO_IN_NANOS
  );
}

/** A volume's billing row, times in epoch milliseconds. */
export interface VolumeBilling {
  rate: bigint;
  sizeGb: number;
  /** The earliest billable event seen; null while only its end is known. */
  openSince: number | null;
  /** The earliest event that ended its billing (deleting, deleted). */
  closedAt: number | null;
  /** Up to when the ledger holds what the volume owes; never before an event seen. */
  accruedUntil: number;
  amount: bigint;
  billedMs: bigint;
}

/** What the volume owes up to `horizon`: from its first billable event to its end, or to the horizon. */
export function volumeBillAt(
  volume: Pick<VolumeBilling, "rate" | "sizeGb" | "openSince" | "closedAt">,
  horizon: number,
): { amount: bigint; billedMs: bigint } {
  if (volume.openSince === null) return { amount: 0n, billedMs: 0n };
  const until = volume.closedAt === null ? horizon : Math.min(volume.closedAt, horizon);
  const billedMs = BigInt(Math.max(0, until - volume.openSince));
  return { amount: volumeAmountFor(volume.rate, volume.sizeGb, billedMs), billedMs };
}

export interface VolumeLedgerEntry {
  at: number;
  kind: "accrual" | "settlement" | "correction";
  billedMs: bigint;
  amount: bigint;
}

/**
 * A volume's billing after one event: its period is [earliest billable event, earliest end), so
 * any order of events converges; the whole bill up to max(accrued_until, the event) is recomputed
 * and the difference from the ledger is the line. Closing the period settles it (the partial
 * period since the last accrual); a credit or an event older than the horizon corrects.
 */
export function applyVolumeEvent(
  before: VolumeBilling,
  event: { at: number; toState: VolumeState },
): { volume: VolumeBilling; line: VolumeLedgerEntry | null } {
  const billable = billableVolumeStates.has(event.toState);
  const earliest = (known: number | null) => (known === null ? event.at : Math.min(known, event.at));
  const after: VolumeBilling = {
    ...before,
    openSince: billable ? earliest(before.openSince) : before.openSince,
    closedAt: billable ? before.closedAt : earliest(before.closedAt),
    accruedUntil: Math.max(before.accruedUntil, event.at),
  };
  const bill = volumeBillAt(after, after.accruedUntil);
  const change = { amount: bill.amount - before.amount, billedMs: bill.billedMs - before.billedMs };
  const volume = { ...after, ...bill };
  if (change.amount === 0n && change.billedMs === 0n) return { volume, line: null };
  const closes = before.closedAt === null && after.closedAt !== null;
  const kind = closes
    ? "settlement"
    : change.amount < 0n || event.at < before.accruedUntil
      ? "correction"
      : "accrual";
  return { volume, line: { at: after.accruedUntil, kind, ...change } };
}
