import { randomUUID } from "node:crypto";
import { jetstream } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import pg from "pg";
import { describe, expect, inject, it } from "vitest";
import { billedAmount, billingRequest, expectedBill, sleep } from "./billing-helpers.ts";
import { eventually, useStack } from "./harness.ts";
import { servers } from "./server-helpers.ts";

const RATE = "6";
const delays = { STOP_DELAY: "200ms", START_DELAY: "200ms", TERMINATE_DELAY: "200ms", BILLING_RATE: RATE };

describe("billing under stops, restarts, replicas and replayed events", () => {
  describe("an hour between ticks, a minute billed at least", () => {
    const ctx = useStack({ env: { ...delays, BILLING_INTERVAL: "1h", BILLING_MINIMUM_SECONDS: "60" } });
    it("settles a stop at once, mid-interval, without waiting for a tick", async () => {
      const api = ctx.api;
      const s = servers(api);
      const { id } = await s.provision();
      await s.until(id, "running");
      await sleep(400);
      await s.act(id, "stop");
      await s.until(id, "stopped");
      const expected = await expectedBill(api, id, { rate: RATE, minimumSeconds: 60 });
      // Under a minute, billed as the minute the minimum asks for: 6.00.
      expect(expected.amount).toBe("6.000000");
      await billedAmount(api, id, expected.amount);
      const ledger = (await api.get(`/servers/${id}/billing?limit=1000`)).body;
      expect(ledger.next_cursor).toBeNull();
      expect(ledger.items.at(-1)).toMatchObject({ kind: "settlement", amount: expect.any(String) });
      // No tick ran: every line came from an event.
      expect(ledger.items.every((l: { event_id: string | null }) => l.event_id !== null)).toBe(true);
    });
  });

  describe("a tick every 150 ms", () => {
    const ctx = useStack({ env: { ...delays, BILLING_INTERVAL: "150ms" } });
    it("loses nothing and charges nothing twice when billing restarts mid-interval", async () => {
      const api = ctx.api;
      const s = servers(api);
      const { id } = await s.provision();
      await s.until(id, "running");
      await sleep(500);
      const billing = ctx.stack.services.find((x) => x.name === "billing");
      if (billing) await ctx.stack.stopService(billing.running);
      await sleep(400);
      await ctx.stack.start("billing");
      await sleep(400);
      await s.act(id, "stop");
      await s.until(id, "stopped");
      const expected = await expectedBill(api, id, { rate: RATE });
      expect(expected.bill.billedMs).toBeGreaterThan(1_200n);
      await billedAmount(api, id, expected.amount);
      const ledger = (await api.get(`/servers/${id}/billing`)).body;
      expect(ledger.amount).toBe(expected.amount);
      expect(ledger.billable_seconds).toBe(expected.billable_seconds);
    });
  });

  describe("three billing replicas", () => {
    const ctx = useStack({ env: { ...delays, BILLING_INTERVAL: "100ms" }, replicas: { billing: 3 } });
    it("three replicas bill the same totals as one", async () => {
      const api = ctx.api;
      const s = servers(api);
      const ids: string[] = [];
      for (let i = 0; i < 6; i++)
        ids.push((await s.provision({ region: "eu-central-1", type: "t2.small" })).id);
      for (const id of ids) await s.until(id, "running");
      await sleep(800);
      for (const id of ids) await s.act(id, "stop");
      for (const id of ids) await s.until(id, "stopped");
      let total = 0n;
      for (const id of ids) {
        const expected = await expectedBill(api, id, { rate: "0.02" });
        total += expected.bill.amount;
        await billedAmount(api, id, expected.amount);
        const ledger = (await api.get(`/servers/${id}/billing`)).body;
        expect(ledger.amount).toBe(expected.amount);
      }
      const summary = (await api.get("/billing/summary")).body;
      expect(BigInt(summary.total.amount.replace(".", "")) * 1000n).toBe(total);
    });
  });

  describe("a tick every 100 ms", () => {
    const ctx = useStack({ env: { ...delays, BILLING_INTERVAL: "100ms" } });
    it("duplicate and out-of-order events change nothing twice and converge to the same totals", async () => {
      const api = ctx.api;
      const s = servers(api);
      const prefix = ctx.stack.env.NATS_SUBJECT_PREFIX ?? "";
      const { id } = await s.provision({ region: "ap-southeast-1", type: "t2.micro" });
      await s.until(id, "running");
      await sleep(300);
      await s.act(id, "stop");
      await s.until(id, "stopped");
      const expected = await expectedBill(api, id, { rate: RATE });
      await billedAmount(api, id, expected.amount);
      const before = (await api.get(`/servers/${id}/billing`)).body;

      const db = new pg.Client({ connectionString: ctx.stack.database.url });
      await db.connect();
      const nc = await connect({ servers: inject("natsUrl") });
      try {
        const js = jetstream(nc);
        const publish = (event: Record<string, unknown>) =>
          js.publish(`${prefix}events.server.${event.to_state}`, JSON.stringify(event), {
            msgID: randomUUID(),
          });
        const recorded = (
          await db.query(
            "SELECT event_id, at, to_state FROM billing.transitions WHERE server_id = $1 ORDER BY at DESC",
            [id],
          )
        ).rows;
        expect(recorded.map((r) => r.to_state)).toEqual(["stopped", "stopping", "running", "provisioning"]);
        const eventOf = (r: { event_id: string; at: Date; to_state: string }, serverId = id) => ({
          id: r.event_id,
          type: "server.state_changed",
          occurred_at: r.at.toISOString(),
          server_id: serverId,
          request_id: null,
          from_state: null,
          to_state: r.to_state,
          actor: "system",
          server: { region: "ap-southeast-1", type: "t2.micro", ip_address: null, tags: {} },
        });
        // The server's own events again, newest first, each twice.
        for (const r of recorded) {
          await publish(eventOf(r));
          await publish(eventOf(r));
        }
        await eventually(async () => {
          const n = await db.query(
            "SELECT count(*)::int AS n FROM billing.processed_events WHERE event_id = ANY($1::uuid[])",
            [recorded.map((r) => r.event_id)],
          );
          return n.rows[0].n === recorded.length ? true : undefined;
        });
        await sleep(500);
        const after = (await api.get(`/servers/${id}/billing`)).body;
        expect(after).toEqual(before);
        expect(after.amount).toBe(expected.amount);

        // The same history for a server billing never saw, delivered shuffled with duplicates:
        // the total is the one the history says, whatever the order.
        const ghost = randomUUID();
        const history = recorded.map((r) => ({ ...r, event_id: randomUUID() }));
        const shuffled = [...history, history[0], history[2]].sort(() => Math.random() - 0.5);
        for (const r of shuffled) if (r) await publish(eventOf(r, ghost));
        await eventually(
          async () => {
            const usage = await billingRequest(prefix, "usage", { server_id: ghost });
            return usage.amount === expected.amount ? usage : undefined;
          },
          10_000,
          "ghost billed like the original",
        );
        const ghostLedger = await billingRequest(prefix, "ledger", { server_id: ghost });
        expect(ghostLedger.amount).toBe(expected.amount);
        expect(ghostLedger.billable_seconds).toBe(expected.billable_seconds);
      } finally {
        await nc.drain();
        await db.end();
      }
    });
  });
});
