import { describe, expect, it } from "vitest";
import { billedAmount, expectedBill } from "./billing-helpers.ts";
import { eventually, sample, useStack } from "./harness.ts";
import { servers } from "./server-helpers.ts";

const INTERVAL_MS = 100;
const RATE = "6";

interface Line {
  at: string;
  kind: string;
  event_id: string | null;
}

describe("three billing replicas", () => {
  const ctx = useStack({
    env: { BILLING_INTERVAL: `${INTERVAL_MS}ms`, BILLING_RATE: RATE, STOP_DELAY: "100ms" },
    replicas: { billing: 3 },
  });

  it("accrue each server once per interval, and bill the totals one replica would", async () => {
    const s = servers(ctx.api);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await s.provision()).id);
    for (const id of ids) await s.until(id, "running");

    // Every replica ticks while the ledger fills: each one's tick count moves.
    const replicas = ctx.stack.services.filter((x) => x.name === "billing");
    expect(replicas).toHaveLength(3);
    const ticksOf = async () =>
      Promise.all(
        replicas.map(async (r) =>
          sample(
            await (await fetch(`http://127.0.0.1:${r.running.port}/metrics`)).text(),
            "cloudsim_billing_tick_duration_seconds_count",
          ),
        ),
      );
    const ticksBefore = await ticksOf();
    const tickLines = async (id: string): Promise<Line[]> =>
      (await ctx.api.get(`/servers/${id}/billing?limit=1000`)).body.items.filter(
        (l: Line) => l.event_id === null,
      );
    const intervalOf = (line: Line) => Math.floor(Date.parse(line.at) / INTERVAL_MS);
    await eventually(async () => {
      for (const id of ids) if (new Set((await tickLines(id)).map(intervalOf)).size < 8) return undefined;
      return true;
    });
    const ticksAfter = await ticksOf();
    for (const [i, after] of ticksAfter.entries())
      expect(after - (ticksBefore[i] ?? 0)).toBeGreaterThanOrEqual(3);

    for (const id of ids) {
      const lines = await tickLines(id);
      expect(lines.every((l) => l.kind === "accrual")).toBe(true);
      const perInterval = new Map<number, number>();
      for (const interval of lines.map(intervalOf))
        perInterval.set(interval, (perInterval.get(interval) ?? 0) + 1);
      expect(
        [...perInterval.values()].filter((n) => n !== 1),
        `lines per interval of ${id}`,
      ).toEqual([]);
    }

    for (const id of ids) await s.act(id, "stop");
    for (const id of ids) await s.until(id, "stopped");
    for (const id of ids) {
      const expected = await expectedBill(ctx.api, id, { rate: RATE });
      await billedAmount(ctx.api, id, expected.amount);
      expect((await ctx.api.get(`/servers/${id}/billing`)).body).toMatchObject({
        amount: expected.amount,
        billable_seconds: expected.billable_seconds,
      });
    }
  });
});
