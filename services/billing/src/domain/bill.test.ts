import type { ServerState } from "@cloudsim/shared";
import { describe, expect, it } from "vitest";
import { billOf, type Transition } from "./bill.ts";
import { formatMoney, parseMoney } from "./money.ts";

const rate = parseMoney("0.01");
const t0 = Date.parse("2025-01-01T00:00:00.000Z");
let n = 0;
const tr = (seconds: number, toState: ServerState, r = rate): Transition => ({
  eventId: `00000000-0000-7000-8000-${String(n++).padStart(12, "0")}`,
  at: t0 + seconds * 1000,
  toState,
  rate: r,
});
const money = (t: Transition[], horizonSeconds: number, minimumSeconds = 0) => {
  const bill = billOf(t, t0 + horizonSeconds * 1000, minimumSeconds * 1000);
  return {
    amount: formatMoney(bill.amount),
    seconds: Number(bill.billedMs) / 1000,
    open: bill.open !== null,
  };
};

describe("billOf", () => {
  it("bills running, rebooting and stopping, and nothing else", () => {
    const t = [
      tr(0, "provisioning"),
      tr(2, "running"),
      tr(62, "rebooting"),
      tr(63, "running"),
      tr(122, "stopping"),
      tr(123, "stopped"),
      tr(200, "starting"),
      tr(201, "terminating"),
      tr(202, "terminated"),
    ];
    expect(money(t, 1000)).toEqual({ amount: "0.020167", seconds: 121, open: false });
  });

  it("bills an open interval up to the horizon, boundaries included exactly", () => {
    const t = [tr(0, "provisioning"), tr(10, "running")];
    expect(money(t, 10)).toEqual({ amount: "0.000000", seconds: 0, open: true });
    expect(money(t, 70)).toEqual({ amount: "0.010000", seconds: 60, open: true });
    expect(money(t, 9)).toEqual({ amount: "0.000000", seconds: 0, open: true });
  });

  it("adds start → stop → start up, never resets", () => {
    const t = [
      tr(0, "running"),
      tr(30, "stopping"),
      tr(31, "stopped"),
      tr(100, "starting"),
      tr(101, "running"),
    ];
    expect(money(t, 130)).toEqual({ amount: "0.010000", seconds: 60, open: true });
  });

  it("applies the minimum per interval when it closes, not while it is open", () => {
    const t = [tr(0, "running"), tr(10, "stopping"), tr(11, "stopped"), tr(20, "running")];
    expect(money(t, 25, 60)).toEqual({ amount: "0.010833", seconds: 65, open: true });
    const closed = [...t, tr(90, "terminating")];
    expect(money(closed, 90, 60)).toEqual({ amount: "0.021667", seconds: 130, open: false });
    // A long interval is billed as it is.
    expect(money([tr(0, "running"), tr(100, "stopped")], 100, 60).seconds).toBe(100);
  });

  it("bills each interval at the rate recorded when it opened", () => {
    const t = [
      tr(0, "running", parseMoney("0.01")),
      tr(60, "stopped", parseMoney("0.01")),
      tr(120, "running", parseMoney("0.03")),
      tr(180, "stopped", parseMoney("0.03")),
    ];
    expect(money(t, 200).amount).toBe("0.040000");
    // A rebooting recorded at another rate inside an interval does not change it.
    expect(
      money([tr(0, "running"), tr(30, "rebooting", parseMoney("1")), tr(60, "stopped")], 60).amount,
    ).toBe("0.010000");
  });

  it("gives the same bill for any order and any duplicates of the same transitions", () => {
    const t = [
      tr(0, "provisioning"),
      tr(2, "running"),
      tr(40, "rebooting"),
      tr(41, "running"),
      tr(75, "stopping"),
      tr(76, "stopped"),
      tr(90, "starting"),
      tr(91, "running"),
      tr(150, "terminating"),
      tr(151, "terminated"),
    ];
    const expected = billOf(t, t0 + 500_000, 60_000);
    for (let i = 0; i < 50; i++) {
      const shuffled = [...t, ...t.slice(0, i % t.length)].sort(() => Math.random() - 0.5);
      expect(billOf(shuffled, t0 + 500_000, 60_000)).toEqual(expected);
    }
    // 74 s, and 59 s raised to the 60 s minimum.
    expect(formatMoney(expected.amount)).toBe("0.022333");
  });

  it("orders events of one millisecond by id", () => {
    const a = tr(10, "running");
    const b = { ...tr(10, "stopped"), eventId: "ffffffff-0000-7000-8000-000000000000" };
    expect(money([b, a], 20)).toEqual({ amount: "0.000000", seconds: 0, open: false });
  });

  it("bills nothing for a server that never ran", () => {
    expect(money([tr(0, "provisioning"), tr(2, "error")], 100, 60)).toEqual({
      amount: "0.000000",
      seconds: 0,
      open: false,
    });
    expect(money([], 100)).toEqual({ amount: "0.000000", seconds: 0, open: false });
  });
});
