import { describe, expect, it } from "vitest";
import { amountFor, formatMoney, moneyFromDb, moneyToDb, parseMoney } from "./money.ts";
import { rateTable } from "./rates.ts";

describe("money", () => {
  it("parses and prints exact decimals", () => {
    expect(parseMoney("0.01")).toBe(10_000_000n);
    expect(parseMoney("12.000000001")).toBe(12_000_000_001n);
    expect(formatMoney(15_000_000n)).toBe("0.015000");
    expect(formatMoney(1n)).toBe("0.000000001");
    expect(formatMoney(-2_500_000n)).toBe("-0.002500");
    for (const bad of ["", "-1", "0.1234567891", "1e3", "abc", ".5"]) expect(() => parseMoney(bad)).toThrow();
    expect(moneyFromDb("-0.015000000")).toBe(-15_000_000n);
    expect(moneyToDb(-15_000_000n)).toBe("-0.015000000");
    expect(moneyFromDb(moneyToDb(123_456_789_012n))).toBe(123_456_789_012n);
  });

  it("bills time at the rate per minute, rounded half up to micro-units", () => {
    const rate = parseMoney("0.01");
    expect(amountFor(rate, 60_000n)).toBe(parseMoney("0.01"));
    expect(amountFor(rate, 90_000n)).toBe(parseMoney("0.015"));
    expect(amountFor(rate, 1_000n)).toBe(parseMoney("0.000167")); // 0.0001666…
    expect(amountFor(rate, 3n)).toBe(parseMoney("0.000001")); // 0.0000005 rounds up
    expect(amountFor(rate, 2n)).toBe(0n); // 0.000000333 rounds down
    expect(amountFor(rate, 0n)).toBe(0n);
    expect(amountFor(rate, -5n)).toBe(0n);
  });

  it("adds up exactly where floats would not", () => {
    const rate = parseMoney("0.1");
    // Ten pieces of one interval, each billed as the difference at its ends, are the whole.
    let total = 0n;
    for (let i = 0n; i < 10n; i++) total += amountFor(rate, (i + 1n) * 6_000n) - amountFor(rate, i * 6_000n);
    expect(total).toBe(amountFor(rate, 60_000n));
    expect(formatMoney(total)).toBe("0.100000");
    expect(0.1 * 3).not.toBe(0.3);
    expect(amountFor(parseMoney("0.1"), 180_000n)).toBe(parseMoney("0.3"));
  });

  it("gives t2.micro BILLING_RATE and every type a rate", () => {
    const rates = rateTable(parseMoney("0.02"));
    expect(rates["t2.micro"]).toBe(parseMoney("0.02"));
    expect(rates["t2.nano"]).toBe(parseMoney("0.005"));
    for (const rate of Object.values(rates)) expect(rate).toBeGreaterThan(0n);
  });
});
