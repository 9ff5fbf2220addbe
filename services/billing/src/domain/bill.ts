import type { ServerState } from "@cloudsim/shared";
import { amountFor } from "./money.ts";

/** States a server is billed for: it holds its resources and may be serving. */
export const billableStates: ReadonlySet<ServerState> = new Set(["running", "rebooting", "stopping"]);

/** One server event as billing records it. */
export interface Transition {
  eventId: string;
  /** Milliseconds since the epoch: the event's own occurred_at. */
  at: number;
  toState: ServerState;
  /** Nano-units per minute, the rate of the server's type when the event was recorded. */
  rate: bigint;
}

/** A maximal run of billable states. */
export interface Interval {
  openedBy: string;
  /** The event that ended it; null while open. */
  closedBy: string | null;
  from: number;
  /** The end of the interval, or the horizon when still open. */
  to: number;
  rate: bigint;
  /** Billed milliseconds: the length, raised to the minimum once closed. */
  billedMs: bigint;
  amount: bigint;
}

export interface Bill {
  intervals: Interval[];
  billedMs: bigint;
  amount: bigint;
  /** The interval still open at the horizon, if any. */
  open: Interval | null;
}

/** Time order; events at the same millisecond in id order (UUIDv7 ids are time-ordered). */
export function byTime(a: Transition, b: Transition): number {
  return a.at - b.at || (a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0);
}

/**
 * What a server owes at `horizon`: each run of billable states, at the rate of the transition
 * that opened it, at least `minimumMs` once closed, the open one up to the horizon. A function
 * of the set of transitions, so late, duplicate and out-of-order events converge.
 */
export function billOf(transitions: readonly Transition[], horizon: number, minimumMs: number): Bill {
  const unique = new Map<string, Transition>();
  for (const t of transitions) unique.set(t.eventId, t);
  const sorted = [...unique.values()].sort(byTime);
  const intervals: Interval[] = [];
  let open: { from: number; rate: bigint; openedBy: string } | null = null;
  for (const t of sorted) {
    const billable = billableStates.has(t.toState);
    if (billable && !open) open = { from: t.at, rate: t.rate, openedBy: t.eventId };
    else if (!billable && open) {
      const length = BigInt(t.at - open.from);
      const billedMs = length > BigInt(minimumMs) ? length : BigInt(minimumMs);
      intervals.push({
        ...open,
        closedBy: t.eventId,
        to: t.at,
        billedMs,
        amount: amountFor(open.rate, billedMs),
      });
      open = null;
    }
  }
  let openInterval: Interval | null = null;
  if (open) {
    const billedMs = BigInt(Math.max(0, horizon - open.from));
    openInterval = {
      ...open,
      closedBy: null,
      to: Math.max(horizon, open.from),
      billedMs,
      amount: amountFor(open.rate, billedMs),
    };
    intervals.push(openInterval);
  }
  return {
    intervals,
    billedMs: intervals.reduce((sum, i) => sum + i.billedMs, 0n),
    amount: intervals.reduce((sum, i) => sum + i.amount, 0n),
    open: openInterval,
  };
}
