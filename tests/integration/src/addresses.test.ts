import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { eventually, fastEnv, useStack } from "./harness.ts";
import { expectProblem, type LogEntry, servers } from "./server-helpers.ts";

const tiny = "eu-central-1";
const tinyCidr = "10.7.0.0/30";
/** A /30 less its network, gateway (.1) and broadcast addresses leaves one. */
const onlyAddress = "10.7.0.2";
const cooldownMs = 2_000;
const pools = (fastEnv.IPAM_POOLS ?? "")
  .split(",")
  .map((entry) => (entry.startsWith(`${tiny}=`) ? `${tiny}=${tinyCidr}` : entry))
  .join(",");
const released = (log: LogEntry[]) => log.filter((e) => e.type === "ip.released");

describe("addresses coming back to the pool", () => {
  const ctx = useStack({
    env: {
      IPAM_POOLS: pools,
      IP_REUSE_COOLDOWN: `${cooldownMs}ms`,
      START_DELAY: "200ms",
      STOP_DELAY: "200ms",
      REBOOT_DELAY: "200ms",
      TERMINATE_DELAY: "500ms",
    },
  });
  const api = ctx.api;
  const s = servers(api);

  /** Waits for the server's ip.released entry, then checks it stays the only one. */
  const releasedOnce = async (id: string) => {
    await eventually(
      async () => (released(await s.log(id)).length > 0 ? true : undefined),
      10_000,
      `ip.released for ${id}`,
    );
    // Long enough for a duplicate delivery or a second release to show up.
    await new Promise((r) => setTimeout(r, 500));
    const log = await s.log(id);
    const entries = released(log);
    expect(entries, JSON.stringify(log)).toHaveLength(1);
    return { entry: entries[0] as LogEntry, log };
  };

  it("after terminate the address is released once: the pool's used count goes down and the log says so", async () => {
    const region = "us-east-1";
    const before = await s.poolUsed(region);
    const requestId = `terminate-${randomBytes(5).toString("hex")}`;
    const { id, ip_address } = await s.provision({ region, type: "t2.micro" });
    expect(await s.poolUsed(region)).toBe(before + 1);
    await s.until(id, "running");
    // Stopping keeps the address.
    expect((await s.act(id, "stop")).status).toBe(202);
    await s.until(id, "stopped");
    expect(await s.poolUsed(region)).toBe(before + 1);
    expect(released(await s.log(id))).toEqual([]);

    const res = await s.remove(id, { "x-request-id": requestId });
    expect(res.status).toBe(202);
    // terminating still holds the address; only terminated gives it back.
    expect(await s.poolUsed(region)).toBe(before + 1);
    await s.until(id, "terminated");
    await eventually(
      async () => ((await s.poolUsed(region)) === before ? true : undefined),
      10_000,
      "release",
    );

    const { entry, log } = await releasedOnce(id);
    expect(entry).toMatchObject({ actor: "system", request_id: requestId, from_state: null, to_state: null });
    expect(entry.message).toContain(ip_address);
    const terminatedAt = log.findIndex((e) => e.to_state === "terminated");
    expect(terminatedAt).toBeGreaterThan(0);
    expect(log.indexOf(entry)).toBeGreaterThan(terminatedAt);
    const pools = await api.get("/ipam/pools");
    const pool = pools.body.items.find((p: { region: string }) => p.region === region);
    expect(pool.free).toBe(pool.size - pool.used - pool.cooling_down);
  });

  describe(`a one-address pool (${tiny}=${tinyCidr}) with a ${cooldownMs} ms reuse cooldown`, () => {
    it("GET /ipam/pools shows it with one address", async () => {
      const res = await api.get("/ipam/pools");
      expect(res.status).toBe(200);
      const pool = res.body.items.find((p: { region: string }) => p.region === tiny);
      expect(pool).toEqual({ region: tiny, cidr: tinyCidr, size: 1, used: 0, cooling_down: 0, free: 1 });
    });

    it("its address is not handed out again before the cooldown, and is after it", async () => {
      const first = await s.provision({ region: tiny, type: "t2.nano" });
      expect(first.ip_address).toBe(onlyAddress);

      // Full while the server holds it: EXHAUSTED, with nothing cooling down.
      const full = await api.post("/servers", { region: tiny, type: "t2.nano" });
      expectProblem(full, 409, "EXHAUSTED");
      expect(full.body).toMatchObject({ region: tiny, cidr: tinyCidr, size: 1, used: 1, cooling_down: 0 });
      expect(full.body.detail).not.toMatch(/cooldown/);

      await s.until(first.id, "running");
      expect((await s.remove(first.id)).status).toBe(202);
      const terminated = await s.until(first.id, "terminated");
      const terminatedAt = Date.parse(terminated.updated_at);
      await eventually(async () => ((await s.poolUsed(tiny)) === 0 ? true : undefined), 5_000, "release");
      await releasedOnce(first.id);
      // Released but cooling down: still EXHAUSTED, now saying why.
      const cooling = await api.post("/servers", { region: tiny, type: "t2.nano" });
      expect(Date.now() - terminatedAt, "the release took too long to test the cooldown").toBeLessThan(
        cooldownMs,
      );
      expectProblem(cooling, 409, "EXHAUSTED");
      expect(cooling.body).toMatchObject({ region: tiny, cidr: tinyCidr, size: 1, used: 0, cooling_down: 1 });
      expect(cooling.body.detail).toMatch(/cooldown/);

      // Retries are refused until the cooldown ends, and then get the same address.
      const again = await eventually(
        async () => {
          const res = await api.post("/servers", { region: tiny, type: "t2.nano" });
          if (res.status === 201) return { res, at: Date.now() };
          expectProblem(res, 409, "EXHAUSTED");
          expect(res.body.detail).toMatch(/cooldown/);
          return undefined;
        },
        cooldownMs + 5_000,
        "an address after the cooldown",
      );
      // The release came after terminated, so the cooldown cannot have ended sooner than this.
      expect(again.at - terminatedAt).toBeGreaterThanOrEqual(cooldownMs);
      expect(again.res.body.ip_address).toBe(onlyAddress);
      expect(again.res.body.id).not.toBe(first.id);
      expect(await s.poolUsed(tiny)).toBe(1);
      // The refused attempts created nothing.
      const listed = await api.get(`/servers?region=${tiny}&limit=100`);
      expect(listed.body.items.map((x: { id: string }) => x.id)).toEqual([again.res.body.id]);
    });
  });
});
