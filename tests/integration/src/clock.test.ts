import { clockBucketName } from "@cloudsim/shared";
import { Kvm } from "@nats-io/kv";
import { describe, expect, it } from "vitest";
import { expectedBill } from "./billing-helpers.ts";
import { busOf, type client, eventually, type ServiceName, useStack } from "./harness.ts";
import { expectProblem, servers } from "./server-helpers.ts";
import { ADMIN_KEY, bearer } from "./tenancy-helpers.ts";

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
const START = "2030-01-01T00:00:00.000Z";

type Api = ReturnType<typeof client>;

/** Keyless requests act as tenant `default`; the admin key moves the clock. */
const adminEnv = { ADMIN_API_KEY: ADMIN_KEY };
const asAdmin = bearer(ADMIN_KEY);

/** A simulated clock that stands still between moves (CLOCK_RATE=0): every time below is exact. */
const stillClock = {
  ...adminEnv,
  CLOCK: "simulated",
  CLOCK_START: START,
  CLOCK_RATE: "0",
  PROVISION_DELAY: "10m",
  STOP_DELAY: "30s",
  TERMINATE_DELAY: "30s",
  IDLE_TIMEOUT: "30m",
  REAPER_INTERVAL: "1m",
  BILLING_RATE: "0.01",
  BILLING_INTERVAL: "60s",
  IP_REUSE_COOLDOWN: "1m",
};

async function clockNow(api: Api): Promise<number> {
  const res = await api.get("/clock");
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return Date.parse(res.body.now);
}

async function advance(api: Api, body: Record<string, string>, query = "") {
  const res = await api.post(`/admin/clock${query}`, body, asAdmin);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body as { now: string; caught_up: boolean; steps: number };
}

const admin = (api: Api, body: unknown) => api.post("/admin/clock", body, asAdmin);

const ledgerOf = async (api: Api, id: string) => (await api.get(`/servers/${id}/billing?limit=1000`)).body;

describe("a simulated clock that stands still between moves", () => {
  const ctx = useStack({ env: stillClock });
  const { api } = ctx;
  const s = servers(api);
  let id: string;
  let createdAt: number;

  it("GET /clock says it is simulated, where it started, and its rate", async () => {
    const res = await api.get("/clock");
    expect(res.body).toEqual({ now: START, mode: "simulated", rate: 0 });
  });

  it("refuses a move backwards, a bad duration, and neither or both of advance and to (400 naming the field)", async () => {
    const back = await admin(api, { to: "2029-12-31T00:00:00Z" });
    expectProblem(back, 400, "VALIDATION");
    expect(back.body.fields).toEqual([expect.objectContaining({ field: "to" })]);
    const bad = await admin(api, { advance: "a month" });
    expectProblem(bad, 400, "VALIDATION");
    expect(bad.body.fields[0].field).toBe("advance");
    expectProblem(await admin(api, {}), 400, "VALIDATION");
    expectProblem(await admin(api, { advance: "1m", to: START }), 400, "VALIDATION");
    expect(await clockNow(api)).toBe(Date.parse(START));
  });

  it("a server provisioned for 10 minutes is provisioning until a move of 10 minutes, then running from created_at + 10m", async () => {
    const created = await s.provision();
    id = created.id;
    createdAt = Date.parse(created.created_at);
    expect(createdAt).toBe(Date.parse(START));
    expect((await s.get(id)).state).toBe("provisioning");

    expect((await advance(api, { advance: "9m" })).caught_up).toBe(true);
    expect((await s.get(id)).state).toBe("provisioning");
    await advance(api, { advance: "1m" });
    const running = await s.get(id);
    expect(running.state).toBe("running");
    expect(Date.parse(running.running_since)).toBe(createdAt + 10 * MINUTE);
    const log = await s.transitions(id);
    expect(log.at(-1)).toMatchObject({ to_state: "running" });
    expect(Date.parse(log.at(-1)?.at ?? "")).toBe(createdAt + 10 * MINUTE);
  });

  it("a jump of 31 days bills 446.40 plus the seconds run before it, on the server, its ledger and the summary", async () => {
    await advance(api, { advance: "90s" });
    const preJumpSeconds = 90;
    const { steps } = await advance(api, { advance: "31d" });
    expect(steps).toBeLessThanOrEqual(2);
    const expected = (446.4 + (preJumpSeconds * 0.01) / 60).toFixed(6);

    const server = await s.get(id);
    expect(server.uptime_seconds).toBe(31 * 86_400 + preJumpSeconds);
    expect(Number(server.billing.amount).toFixed(6)).toBe(expected);
    expect((await expectedBill(api, id, { rate: "0.01", horizon: await clockNow(api) })).amount).toBe(
      server.billing.amount,
    );

    const ledger = await ledgerOf(api, id);
    expect(Number(ledger.amount).toFixed(6)).toBe(expected);
    // Bounded: one line per accrual (each move's final tick), not one per minute of the month.
    expect(ledger.items.length).toBeLessThanOrEqual(5);

    const summary = await api.get("/billing/summary");
    const line = summary.body.by_server.find((b: { server_id: string }) => b.server_id === id);
    expect(Number(line.amount).toFixed(6)).toBe(expected);
  });

  it("a server stopped, then a move of IDLE_TIMEOUT + 1m: reaped within one sweep of stopped_at + IDLE_TIMEOUT, its address back", async () => {
    const { ip_address: address, region } = await s.get(id);
    const usedBefore = await poolUsed(api, region);
    expect((await s.act(id, "stop")).status).toBe(202);
    await advance(api, { advance: "30s" });
    const stopped = await s.get(id);
    expect(stopped.state).toBe("stopped");
    const stoppedAt = Date.parse(stopped.updated_at);

    await advance(api, { advance: "31m" });
    expect((await s.get(id)).state).toBe("terminated");
    const log = await s.transitions(id);
    const reaped = log.find((e) => e.to_state === "terminating");
    expect(reaped?.actor).toBe("reaper");
    const reapedAt = Date.parse(reaped?.at ?? "");
    expect(reapedAt).toBeGreaterThanOrEqual(stoppedAt + 30 * MINUTE);
    expect(reapedAt).toBeLessThanOrEqual(stoppedAt + 31 * MINUTE);
    expect(Date.parse(log.at(-1)?.at ?? "")).toBe(reapedAt + 30_000);
    expect(await poolUsed(api, region)).toBe(usedBefore - 1);
    expect(address).toBeTruthy();
  });

  it("?wait=false answers at once with the clock moved", async () => {
    const before = await clockNow(api);
    const moved = await advance(api, { advance: "1h" }, "?wait=false");
    expect(moved).toMatchObject({ caught_up: false, steps: 0 });
    expect(Date.parse(moved.now)).toBe(before + 60 * MINUTE);
  });

  it("after every service restarts, the clock is where it was and nothing fires twice", async () => {
    const { stack } = ctx;
    const live = (await s.provision()).id;
    await advance(api, { advance: "10m" });
    expect((await s.get(live)).state).toBe("running");
    const liveLog = await s.transitions(live);
    const liveBilled = Number((await ledgerOf(api, live)).amount);
    const before = await clockNow(api);
    const logBefore = await s.transitions(id);
    const ledgerBefore = await ledgerOf(api, id);
    const names: ServiceName[] = ["ipam", "lifecycle", "billing", "reaper"];
    const port = String(new URL(stack.url).port);
    for (const { running } of [...stack.services]) await stack.stopService(running);
    for (const name of names) await stack.start(name);
    // On its old port, where the stack's url points.
    await stack.start("gateway", { PORT: port });
    expect(await clockNow(api)).toBe(before);
    await advance(api, { advance: "1d" });
    expect(await s.transitions(id)).toEqual(logBefore);
    const ledger = await ledgerOf(api, id);
    expect(ledger.items).toEqual(ledgerBefore.items);
    // The restarted services did act: the running server was billed its day, once.
    expect(await s.transitions(live)).toEqual(liveLog);
    expect(Number((await ledgerOf(api, live)).amount).toFixed(6)).toBe((liveBilled + 14.4).toFixed(6));
  });
});

async function poolUsed(api: Api, region: string): Promise<number> {
  const pools = await api.get("/ipam/pools");
  return pools.body.items.find((p: { region: string }) => p.region === region).used;
}

describe("the real clock", () => {
  const { api } = useStack({ env: adminEnv });

  it("reads the machine's time and refuses to move (409, saying to set CLOCK=simulated)", async () => {
    const res = await api.get("/clock");
    expect(res.body).toMatchObject({ mode: "real", rate: 1 });
    expect(Math.abs(Date.parse(res.body.now) - Date.now())).toBeLessThan(60_000);
    const moved = await admin(api, { advance: "1d" });
    expectProblem(moved, 409, "CONFLICT");
    expect(moved.body.detail).toContain("CLOCK=simulated");
  });
});

describe("a simulated clock at CLOCK_RATE=3600", () => {
  const { api } = useStack({
    env: {
      ...adminEnv,
      CLOCK: "simulated",
      CLOCK_RATE: "3600",
      PROVISION_DELAY: "10m",
      BILLING_RATE: "0.01",
    },
  });
  const s = servers(api);

  it("runs an hour a second, and bills by its own reading", async () => {
    const created = await s.provision();
    const running = await s.until(created.id, "running", 10_000);
    const first = await clockNow(api);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const { now } = await advance(api, { advance: "0s" });
    const caughtUp = Date.parse(now);
    // A second of real time, and the requests around it: about an hour.
    expect(caughtUp - first).toBeGreaterThanOrEqual(55 * MINUTE);
    // The catch-up's last accrual, at the clock's reading when billing made it (a little before
    // `now` was read, which the clock ran past meanwhile): the bill up to that reading, exactly.
    const ledger = await ledgerOf(api, created.id);
    const accruedTo = Date.parse(ledger.items.at(-1).at);
    expect(accruedTo).toBeLessThanOrEqual(caughtUp);
    expect(accruedTo - first).toBeGreaterThanOrEqual(55 * MINUTE);
    const bill = await expectedBill(api, created.id, { rate: "0.01", horizon: accruedTo });
    expect(Number(ledger.amount)).toBeCloseTo(Number(bill.amount), 6);
    const ranMs = accruedTo - Date.parse(running.running_since);
    expect(Number(ledger.amount)).toBeCloseTo((ranMs / MINUTE) * 0.01, 6);
    expect(ranMs).toBeLessThan(DAY);
  });
});

describe("a simulated clock whose entry in NATS something else overwrote", () => {
  const ctx = useStack({ env: { ...adminEnv, CLOCK: "simulated", CLOCK_START: START, CLOCK_RATE: "0" } });
  const { api } = ctx;

  it("keeps its time, and the next move writes a reading again", async () => {
    const bus = await busOf(ctx.stack);
    try {
      const kv = await new Kvm(bus.js).open(clockBucketName(bus));
      await kv.put("clock", "not a reading");
      // The services saw it (their watch logged it) and kept their time.
      await eventually(
        async () => ctx.stack.logs.lines.find((l) => String(l.msg).includes("entry is not a reading")),
        5_000,
        "a service saying the entry is not a reading",
      );
      expect(await clockNow(api)).toBe(Date.parse(START));
      const moved = await advance(api, { advance: "1h" });
      expect(Date.parse(moved.now)).toBe(Date.parse(START) + 60 * MINUTE);
      expect((await kv.get("clock"))?.json<{ sim: number }>().sim).toBe(Date.parse(START) + 60 * MINUTE);
    } finally {
      await bus.close();
    }
  });
});
