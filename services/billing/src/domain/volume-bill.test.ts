import type { VolumeState } from "@cloudsim/shared";
import { describe, expect, it } from "vitest";
import { formatMoney, parseMoney } from "./money.ts";
import {
  applyVolumeEvent,
  MS_PER_GB_MONTH,
  type VolumeBilling,
  volumeAmountFor,
  volumeBillAt,
} from "./volume-bill.ts";

const rate = parseMoney("0.08");
const HOUR = 3_600_000;
const t0 = Date.parse("2025-01-01T00:00:00.000Z");
const h = (hours: number) => t0 + hours * HOUR;
const fresh = (at: number): VolumeBilling => ({
  rate,
  sizeGb: 100,
  openSince: null,
  closedAt: null,
  accruedUntil: at,
  amount: 0n,
  billedMs: 0n,
});
const replay = (events: [number, VolumeState][]) =>
  events.reduce(
    (v, [at, toState]) => applyVolumeEvent(v, { at, toState }).volume,
    fresh(events[0]?.[0] ?? t0),
  );

describe("volumeAmountFor", () => {
  it("bills GB-months of 730 hours: 100 GB for 730 h at 0.08 is 8.00", () => {
    expect(MS_PER_GB_MONTH).toBe(2_628_000_000n);
    expect(formatMoney(volumeAmountFor(rate, 100, MS_PER_GB_MONTH))).toBe("8.000000");
    expect(formatMoney(volumeAmountFor(rate, 8, MS_PER_GB_MONTH / 2n))).toBe("0.320000");
    expect(formatMoney(volumeAmountFor(rate, 1, 3_600_000n))).toBe("0.000110"); // 0.0001095… rounds up
  });

  it("rounds half up to micro-units, and bills nothing for no time", () => {
    // 1 GB at 1 per GB-month: 1314 ms is exactly half a micro-unit, 1313 ms just under.
    const one = parseMoney("1");
    expect(volumeAmountFor(one, 1, 1314n)).toBe(parseMoney("0.000001"));
    expect(volumeAmountFor(one, 1, 1313n)).toBe(0n);
    expect(volumeAmountFor(rate, 100, 0n)).toBe(0n);
    expect(volumeAmountFor(rate, 100, -5n)).toBe(0n);
  });

  it("adds up exactly when a period is billed in pieces", () => {
    const piece = MS_PER_GB_MONTH / 7n + 13n;
    let total = 0n;
    let at = 0n;
    while (at < MS_PER_GB_MONTH) {
      const next = at + piece < MS_PER_GB_MONTH ? at + piece : MS_PER_GB_MONTH;
      total += volumeAmountFor(rate, 100, next) - volumeAmountFor(rate, 100, at);
      at = next;
    }
    expect(total).toBe(parseMoney("8"));
  });
});

describe("applyVolumeEvent", () => {
  it("opens the period at the first event, without a line", () => {
    const { volume, line } = applyVolumeEvent(fresh(h(0)), { at: h(0), toState: "creating" });
    expect(line).toBeNull();
    expect(volume).toMatchObject({ openSince: h(0), closedAt: null, accruedUntil: h(0) });
  });

  it("bills attached or not, and settles the partial period at deleting", () => {
    const accrued = replay([
      [h(0), "creating"],
      [h(1), "available"],
      [h(2), "in-use"],
    ]);
    expect(accrued.billedMs).toBe(BigInt(2 * HOUR));
    const ticked = { ...accrued, ...volumeBillAt(accrued, h(365)), accruedUntil: h(365) };
    const { volume, line } = applyVolumeEvent(ticked, { at: h(730), toState: "deleting" });
    expect(line).toEqual({
      at: h(730),
      kind: "settlement",
      billedMs: BigInt(365 * HOUR),
      amount: parseMoney("4"),
    });
    expect(volume).toMatchObject({ closedAt: h(730), amount: parseMoney("8"), billedMs: MS_PER_GB_MONTH });
    // Nothing after the end: deleted, or a bill asked for later, adds nothing.
    expect(applyVolumeEvent(volume, { at: h(731), toState: "deleted" }).line).toBeNull();
    expect(volumeBillAt(volume, h(2000)).amount).toBe(parseMoney("8"));
  });

  it("credits what a tick accrued past an end that arrives late", () => {
    const open = replay([[h(0), "creating"]]);
    const ticked = { ...open, ...volumeBillAt(open, h(730)), accruedUntil: h(730) };
    const { volume, line } = applyVolumeEvent(ticked, { at: h(365), toState: "deleting" });
    expect(line).toMatchObject({
      kind: "settlement",
      amount: -parseMoney("4"),
      billedMs: -BigInt(365 * HOUR),
    });
    expect(volume.amount).toBe(parseMoney("4"));
  });

  it("converges to the same bill for any order of the same events", () => {
    const events: [number, VolumeState][] = [
      [h(0), "creating"],
      [h(1), "available"],
      [h(5), "in-use"],
      [h(9), "available"],
      [h(10), "deleting"],
      [h(11), "deleted"],
    ];
    const expected = replay(events);
    expect(expected.amount).toBe(volumeAmountFor(rate, 100, BigInt(10 * HOUR)));
    for (let i = 0; i < 30; i++) {
      const shuffled = [...events].sort(() => Math.random() - 0.5);
      const got = replay(shuffled);
      expect({ amount: got.amount, billedMs: got.billedMs }).toEqual({
        amount: expected.amount,
        billedMs: expected.billedMs,
      });
    }
  });

  it("corrects an earlier start that arrives after the end", () => {
    const ended = replay([
      [h(2), "available"],
      [h(4), "deleting"],
    ]);
    const { volume, line } = applyVolumeEvent(ended, { at: h(0), toState: "creating" });
    expect(line).toMatchObject({ kind: "correction", billedMs: BigInt(2 * HOUR) });
    expect(volume.billedMs).toBe(BigInt(4 * HOUR));
  });

  it("bills nothing for a volume seen only ending", () => {
    expect(replay([[h(3), "deleting"]])).toMatchObject({ amount: 0n, billedMs: 0n, openSince: null });
  });
});
