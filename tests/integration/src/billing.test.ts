import { describe, expect, it } from "vitest";
import { billedAmount, expectedBill, sleep } from "./billing-helpers.ts";
import { useStack } from "./harness.ts";
import { servers } from "./server-helpers.ts";

/** 6 per minute is 0.1 per second: a second of running is ten cents. */
const RATE = "6";

describe("billing", () => {
  const ctx = useStack({
    env: {
      BILLING_RATE: RATE,
      BILLING_INTERVAL: "200ms",
      STOP_DELAY: "200ms",
      START_DELAY: "200ms",
      REBOOT_DELAY: "200ms",
      TERMINATE_DELAY: "200ms",
    },
  });
  const api = ctx.api;
  const s = servers(api);

  it("bills a server run for known periods exactly what its log says, start → stop → start adding up", async () => {
    const { id } = await s.provision({ region: "us-east-1", type: "t2.micro" });
    await s.until(id, "running");
    await sleep(700);
    await s.act(id, "reboot");
    await s.until(id, "running");
    await sleep(300);
    await s.act(id, "stop");
    await s.until(id, "stopped");
    await sleep(500); // stopped is free
    await s.act(id, "start");
    await s.until(id, "running");
    await sleep(600);
    expect((await s.remove(id)).status).toBe(202);
    await s.until(id, "terminated");

    const expected = await expectedBill(api, id, { rate: RATE });
    expect(expected.bill.open).toBeNull();
    expect(expected.bill.intervals).toHaveLength(2);
    // More than 1.8 s of billable time at ten cents a second.
    expect(expected.bill.billedMs).toBeGreaterThan(1_800n);
    const billing = await billedAmount(api, id, expected.amount);
    expect(billing).toMatchObject({
      rate: "6.000000",
      currency: "USD",
      billable_seconds: expected.billable_seconds,
    });

    const ledger = await api.get(`/servers/${id}/billing?limit=1000`);
    expect(ledger.status, JSON.stringify(ledger.body)).toBe(200);
    expect(ledger.body.next_cursor).toBeNull();
    expect(ledger.body.amount).toBe(expected.amount);
    expect(ledger.body.items.map((l: { kind: string }) => l.kind)).toContain("settlement");
    // The bill does not move once the server ended.
    await sleep(500);
    expect((await s.get(id)).billing.amount).toBe(expected.amount);

    // Billing's own events in the server's log: started and stopped twice each.
    const log = await s.log(id);
    const billingEntries = log.filter((e) => e.type.startsWith("billing."));
    expect(billingEntries.map((e) => e.type)).toEqual([
      "billing.started",
      "billing.stopped",
      "billing.started",
      "billing.stopped",
    ]);
    const settled = billingEntries
      .filter((e) => e.type === "billing.stopped")
      .map((e) => /stopped: (\S+) USD/.exec(e.message)?.[1]);
    expect(settled).toEqual(expected.bill.intervals.map((i) => (Number(i.amount) / 1e9).toFixed(6)));
  });

  it("shows billing on GET /servers/{id}, current to the second while running", async () => {
    const { id } = await s.provision({ region: "eu-west-1", type: "t2.nano" });
    const provisioning = await s.get(id);
    expect(provisioning.billing).toMatchObject({ amount: "0.000000", billable_seconds: 0, currency: "USD" });
    await s.until(id, "running");
    await sleep(400);
    const first = (await s.get(id)).billing;
    await sleep(300);
    const second = (await s.get(id)).billing;
    expect(first.rate).toBe("0.005000");
    expect(second.billable_seconds).toBeGreaterThan(first.billable_seconds);
    expect(Number(second.amount)).toBeGreaterThan(Number(first.amount));
    expect(Date.parse(second.as_of)).toBeGreaterThan(Date.parse(first.as_of));
    const openapi = await api.get("/openapi.json");
    expect(JSON.stringify(openapi.body.components.schemas.Server)).toContain("billing");
    await s.remove(id);
  });

  it("answers the ledger of an unknown server with 404", async () => {
    for (const id of ["0190b5a1-0000-7000-8000-000000000000", "nope"]) {
      const res = await api.get(`/servers/${id}/billing`);
      expect(res.status).toBe(404);
    }
  });

  it("sums the ledger per server, type, region and overall, and checks from and to", async () => {
    const { id } = await s.provision({ region: "us-west-2", type: "m5.large" });
    await s.until(id, "running");
    await sleep(300);
    await s.act(id, "stop");
    await s.until(id, "stopped");
    const expected = await expectedBill(api, id, { rate: "0.09" });
    await billedAmount(api, id, expected.amount);

    const summary = (await api.get("/billing/summary?limit=100")).body;
    expect(summary.next_cursor).toBeNull();
    const mine = summary.by_server.find((r: { server_id: string }) => r.server_id === id);
    expect(mine).toMatchObject({ type: "m5.large", region: "us-west-2", amount: expected.amount });
    const sum = (rows: { amount: string }[]) =>
      rows.reduce((t, r) => t + BigInt(r.amount.replace(".", "")), 0n).toString();
    expect(sum(summary.by_server)).toBe(sum([summary.total]));
    expect(sum(summary.by_type)).toBe(sum([summary.total]));
    expect(sum(summary.by_region)).toBe(sum([summary.total]));
    expect(summary.by_type.find((r: { type: string }) => r.type === "m5.large").amount).toBe(expected.amount);

    const future = (await api.get(`/billing/summary?from=${new Date(Date.now() + 60_000).toISOString()}`))
      .body;
    expect(future.total.amount).toBe("0.000000");
    const past = (await api.get("/billing/summary?to=2000-01-01T00:00:00Z")).body;
    expect(past.by_server).toEqual([]);
    for (const field of ["from", "to"]) {
      const bad = await api.get(`/billing/summary?${field}=yesterday`);
      expect(bad.status).toBe(400);
      expect(bad.body.fields.map((f: { field: string }) => f.field)).toContain(field);
    }
  });

  it("shows billing: null when billing does not answer, and the server all the same", async () => {
    const { id } = await s.provision({ region: "us-east-1", type: "t2.micro" });
    const billing = ctx.stack.services.filter((x) => x.name === "billing");
    for (const b of billing) await ctx.stack.stopService(b.running);
    try {
      const res = await api.get(`/servers/${id}`);
      expect(res.status).toBe(200);
      expect(res.body.id).toBe(id);
      expect(res.body.billing).toBeNull();
    } finally {
      await ctx.stack.start("billing");
    }
    await s.remove(id);
  });
});
