import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { sample, useStack } from "./harness.ts";

/** lifecycle's Prometheus text. */
async function lifecycleMetrics(s: ReturnType<typeof useStack>): Promise<string> {
  const lifecycle = s.stack.services.find((service) => service.name === "lifecycle");
  return (await fetch(`http://127.0.0.1:${lifecycle?.running.port}/metrics`)).text();
}

describe("a request's deadline travels with it", () => {
  // The gateway waits one second for lifecycle; lifecycle stops a little before that.
  const s = useStack({ env: { REQUEST_TIMEOUT: "1s" } });

  it("answers 504 when lifecycle waits past it, and stores nothing the client was not told of", async () => {
    const db = new pg.Client({ connectionString: s.stack.database.url });
    await db.connect();
    try {
      // Hold the tenant row the provision's quota check must lock.
      await db.query("BEGIN");
      await db.query("SELECT 1 FROM lifecycle.tenants WHERE id = 'default' FOR UPDATE");
      const before = sample(await lifecycleMetrics(s), "cloudsim_nats_requests_total", {
        subject: "lifecycle.provision",
        outcome: "TIMEOUT",
      });
      const answer = await s.api.post("/servers", { region: "eu-west-1", type: "t2.micro" });
      expect(answer.status, JSON.stringify(answer.body)).toBe(504);
      expect(answer.body).toMatchObject({ code: "TIMEOUT" });
      expect(answer.body.detail).toMatch(/unknown.*Idempotency-Key/s);
      expect(answer.headers.get("retry-after")).toBe("1");
      // Held a while longer, then let go: the insert that waited for it now goes on.
      await sleep(500);
      await db.query("ROLLBACK");
      // lifecycle ran the provision and refused to keep it (the thing that would have stored it did run).
      await expect
        .poll(
          async () =>
            sample(await lifecycleMetrics(s), "cloudsim_nats_requests_total", {
              subject: "lifecycle.provision",
              outcome: "TIMEOUT",
            }),
          { timeout: 5_000 },
        )
        .toBe(before + 1);
      const stored = await db.query("SELECT count(*)::int AS n FROM lifecycle.servers");
      expect(stored.rows[0].n).toBe(0);
      // Its address went back: nothing is held in the pool.
      const pools = await s.api.get("/ipam/pools");
      expect(pools.body.items.find((p: { region: string }) => p.region === "eu-west-1")).toMatchObject({
        used: 0,
      });
    } finally {
      await db.query("ROLLBACK").catch(() => undefined);
      await db.end();
    }
    // With the lock gone, the same request works.
    const again = await s.api.post("/servers", { region: "eu-west-1", type: "t2.micro" });
    expect(again.status).toBe(201);
  });
});

describe("a database wait past its limit", () => {
  // lifecycle's connections give up a lock after 300 ms; the gateway would wait three seconds.
  const s = useStack({ env: { DB_LOCK_TIMEOUT: "300ms" } });

  it("answers 503 naming the limit, not 500, and stores nothing", async () => {
    const db = new pg.Client({ connectionString: s.stack.database.url });
    await db.connect();
    try {
      await db.query("BEGIN");
      await db.query("SELECT 1 FROM lifecycle.tenants WHERE id = 'default' FOR UPDATE");
      const answer = await s.api.post("/servers", { region: "eu-west-1", type: "t2.micro" });
      expect(answer.status, JSON.stringify(answer.body)).toBe(503);
      expect(answer.body).toMatchObject({ code: "UNAVAILABLE", limit: "DB_LOCK_TIMEOUT" });
      await db.query("ROLLBACK");
      const stored = await db.query("SELECT count(*)::int AS n FROM lifecycle.servers");
      expect(stored.rows[0].n).toBe(0);
    } finally {
      await db.query("ROLLBACK").catch(() => undefined);
      await db.end();
    }
  });
});
