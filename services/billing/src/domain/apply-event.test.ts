import type { ServerState } from "@cloudsim/shared";
import { describe, expect, it } from "vitest";
import { applyEvent, type ServerBilling } from "./apply-event.ts";
import type { Transition } from "./bill.ts";
import { amountFor, parseMoney } from "./money.ts";

const rate = parseMoney("0.01");
const typeRate = parseMoney("0.02");
const t0 = Date.parse("2025-01-01T00:00:00.000Z");
const s = (seconds: number) => t0 + seconds * 1000;
let n = 0;
const tr = (seconds: number, toState: ServerState): Transition => ({
  eventId: `00000000-0000-7000-8000-${String(n++).padStart(12, "0")}`,
  at: s(seconds),
  toState,
  rate,
});
const fresh: ServerBilling = { accruedUntil: null, amount: 0n, billedMs: 0n };
const billedFor = (seconds: number): ServerBilling => ({
  accruedUntil: s(seconds),
  amount: amountFor(rate, BigInt(seconds * 1000)),
  billedMs: BigInt(seconds * 1000),
});
const apply = (before: ServerBilling, transitions: Transition[], minimumMs = 0) => {
  const event = transitions.at(-1) as Transition;
  return applyEvent(
    before,
    transitions,
    { id: event.eventId, occurredAt: event.at },
    { typeRate, minimumMs },
  );
};

describe("applyEvent", () => {
  it("opens an interval without a line when the server starts", () => {
    const running = tr(0, "running");
    const applied = apply(fresh, [tr(-5, "provisioning"), running]);
    expect(applied.line).toBeNull();
    expect(applied.change).toEqual({ amount: 0n, billedMs: 0n });
    expect(applied.opened?.openedBy).toBe(running.eventId);
    expect(applied.closed).toBeUndefined();
    expect(applied.server).toEqual({ accruedUntil: s(0), amount: 0n, billedMs: 0n, rate, openSince: s(0) });
  });

  it("settles the interval a stop closes: the time since the last accrual, at the interval's rate", () => {
    const stopped = tr(60, "stopped");
    const applied = apply(billedFor(30), [tr(0, "running"), stopped]);
    expect(applied.line).toEqual({
      at: s(60),
      kind: "settlement",
      billedMs: 30_000n,
      amount: amountFor(rate, 60_000n) - amountFor(rate, 30_000n),
      rate,
    });
    expect(applied.closed?.closedBy).toBe(stopped.eventId);
    // Nothing open: the row goes back to the type's rate.
    expect(applied.server).toMatchObject({
      accruedUntil: s(60),
      billedMs: 60_000n,
      rate: typeRate,
      openSince: null,
    });
  });

  it("bills a closed interval at least the minimum", () => {
    const applied = apply(fresh, [tr(0, "running"), tr(10, "stopped")], 60_000);
    expect(applied.line).toMatchObject({ kind: "settlement", billedMs: 60_000n });
  });

  it("extends an open interval up to a billable event as an accrual", () => {
    const applied = apply(billedFor(30), [tr(0, "running"), tr(50, "rebooting")]);
    expect(applied.line).toMatchObject({ at: s(50), kind: "accrual", billedMs: 20_000n, rate });
  });

  it("corrects what was billed for an event older than one recorded", () => {
    const recorded = [tr(0, "provisioning"), tr(10, "running"), tr(70, "stopped")];
    const late = tr(5, "running");
    const applied = apply(billedFor(60), [...recorded, late]);
    // The interval now opens at 5s: 65s billed up to the stop at 70s, 5s more than the ledger's 60s.
    expect(applied.line).toMatchObject({ at: s(70), kind: "correction", billedMs: 5_000n });
    expect(applied.opened?.openedBy).toBe(late.eventId);
    expect(applied.server.accruedUntil).toBe(s(70));
  });

  it("writes no line for an event that changes nothing", () => {
    const applied = apply(billedFor(0), [tr(0, "running"), tr(0, "running")]);
    expect(applied.line).toBeNull();
    expect(applied.change).toEqual({ amount: 0n, billedMs: 0n });
  });

  it("keeps the horizon where the tick left it when the event is older", () => {
    const applied = apply(billedFor(90), [tr(0, "running"), tr(40, "rebooting")]);
    expect(applied.server.accruedUntil).toBe(s(90));
    expect(applied.line).toBeNull();
  });
});
