import type { LedgerLine } from "@cloudsim/shared";
import { billOf, type Interval, type Transition } from "./bill.ts";

/** A server's billing row while a batch is applied: as it was locked, then as each event left it. */
export interface ServerBilling {
  /** Up to when the ledger holds what the server owes; null before its first event. */
  accruedUntil: number | null;
  amount: bigint;
  billedMs: bigint;
}

/** What an event changed of a server's total (nothing for a duplicate). */
export interface LedgerChange {
  billedMs: bigint;
  amount: bigint;
}

/** The ledger line an event writes: the difference between its server's new bill and the ledger. */
export interface LedgerEntry extends LedgerChange {
  at: number;
  kind: LedgerLine["kind"];
  rate: bigint;
}

export interface AppliedEvent {
  /** The server's row after the event. */
  server: ServerBilling & { accruedUntil: number; rate: bigint; openSince: number | null };
  /** Null when the event changed nothing the ledger holds. */
  line: LedgerEntry | null;
  change: LedgerChange;
  /** The interval this event opened or closed, if any: what billing announces. */
  opened: Interval | undefined;
  closed: Interval | undefined;
}

/**
 * A server's billing after one event, `transitions` holding the event's own: the whole bill up to
 * max(accrued_until, latest transition), and the difference as the ledger line, so any order of
 * events converges to the same total.
 */
export function applyEvent(
  before: ServerBilling,
  transitions: readonly Transition[],
  event: { id: string; occurredAt: number },
  opts: { typeRate: bigint; minimumMs: number },
): AppliedEvent {
  const latest = Math.max(...transitions.map((t) => t.at));
  const horizon = Math.max(before.accruedUntil ?? latest, latest);
  const bill = billOf(transitions, horizon, opts.minimumMs);
  const change = { amount: bill.amount - before.amount, billedMs: bill.billedMs - before.billedMs };
  const closed = bill.intervals.find((i) => i.closedBy === event.id);
  const opened = bill.intervals.find((i) => i.openedBy === event.id);
  let line: LedgerEntry | null = null;
  if (change.amount !== 0n || change.billedMs !== 0n) {
    // A credit, or an event older than one already recorded, corrects what was billed.
    const kind = closed
      ? "settlement"
      : change.amount < 0n || event.occurredAt < latest
        ? "correction"
        : "accrual";
    line = { at: horizon, kind, ...change, rate: closed?.rate ?? bill.open?.rate ?? opts.typeRate };
  }
  return {
    server: {
      accruedUntil: horizon,
      amount: bill.amount,
      billedMs: bill.billedMs,
      rate: bill.open?.rate ?? opts.typeRate,
      openSince: bill.open ? bill.open.from : null,
    },
    line,
    change,
    opened,
    closed,
  };
}
