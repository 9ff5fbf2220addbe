import { describe, expect, it } from "vitest";
import { amountFor, parseMoney } from "./money.ts";
import { usageAt } from "./usage.ts";

const rate = parseMoney("0.01");
const ledger = { rate, amount: amountFor(rate, 30_000n), billedMs: 30_000n };

describe("usageAt", () => {
  it("adds the open interval from accrued_until to now to the ledger's total", () => {
    const usage = usageAt({ ...ledger, openSince: 0n, accruedUntil: 30_000n }, 45_000n);
    expect(usage).toEqual({ amount: amountFor(rate, 45_000n), billedMs: 45_000n });
  });

  it("adds nothing when the ledger is ahead of now", () => {
    expect(usageAt({ ...ledger, openSince: 0n, accruedUntil: 30_000n }, 20_000n)).toEqual({
      amount: ledger.amount,
      billedMs: 30_000n,
    });
  });

  it("is the ledger's total when nothing is open", () => {
    expect(usageAt({ ...ledger, openSince: null, accruedUntil: 30_000n }, 90_000n)).toEqual({
      amount: ledger.amount,
      billedMs: 30_000n,
    });
  });
});
