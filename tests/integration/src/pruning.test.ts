import { randomUUID } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { eventually, type ServiceName, sample, useStack } from "./harness.ts";

const HOUR_MS = 3_600_000;
const ago = (ms: number) => new Date(Date.now() - ms);

describe("tables kept for a retention", () => {
  const ctx = useStack({ env: { PRUNE_INTERVAL: "100ms", PRUNE_BATCH: "2" } });
  let db: pg.Client;

  beforeAll(async () => {
    // As the admin, on the stack's database: the test writes into every service's schema.
    const url = new URL(inject("postgresAdminUrl"));
    url.pathname = `/${ctx.stack.database.name}`;
    db = new pg.Client({ connectionString: url.toString() });
    await db.connect();
  });
  afterAll(() => db?.end());

  const metricsOf = async (name: ServiceName) => {
    const service = ctx.stack.services.find((s) => s.name === name);
    return (await fetch(`http://127.0.0.1:${service?.running.port}/metrics`)).text();
  };
  const pruned = async (name: ServiceName, table: string) =>
    sample(await metricsOf(name), "cloudsim_pruned_rows_total", { table });
  const ids = async (table: string, column: string) =>
    (await db.query(`SELECT ${column} AS id FROM ${table}`)).rows.map((r) => String(r.id)).sort();

  it("deletes processed event ids older than PROCESSED_EVENTS_RETENTION (7d), in batches, and keeps newer ones", async () => {
    for (const schema of ["ipam", "billing", "lifecycle"] as const) {
      const old = [randomUUID(), randomUUID(), randomUUID()];
      const recent = randomUUID();
      const insert = (id: string, at: Date) =>
        db.query(`INSERT INTO ${schema}.processed_events VALUES ($1, $2)`, [id, at]);
      for (const id of old) await insert(id, ago(8 * 24 * HOUR_MS));
      await insert(recent, ago(6 * 24 * HOUR_MS));
      // Three old rows, two to a batch: the pruner went round at least twice.
      await eventually(
        async () => ((await pruned(schema, `${schema}.processed_events`)) >= 3 ? true : undefined),
        5_000,
        `${schema} pruned its processed_events`,
      );
      const left = await ids(`${schema}.processed_events`, "event_id");
      expect(left).toContain(recent);
      for (const id of old) expect(left).not.toContain(id);
    }
  });

  it("deletes Idempotency-Keys and ClientTokens past IDEMPOTENCY_KEY_RETENTION (24h), but a token of live instances", async () => {
    const created = await ctx.api.post("/servers", { region: "us-east-1", type: "t2.micro" });
    expect(created.status).toBe(201);
    const serverId: string = created.body.id;
    const [{ reservation_id: liveReservation }] = (
      await db.query("SELECT reservation_id FROM lifecycle.servers WHERE id = $1", [serverId])
    ).rows;
    const key = (name: string, at: Date) =>
      db.query("INSERT INTO lifecycle.idempotency_keys VALUES ($1, 'h', $2, $3)", [name, serverId, at]);
    await key("old-key", ago(25 * HOUR_MS));
    await key("new-key", ago(HOUR_MS));
    const token = (name: string, reservation: string, at: Date) =>
      db.query(
        `INSERT INTO lifecycle.client_tokens (tenant_id, region, token, request_hash, reservation_id, created_at)
         VALUES ('default', 'us-east-1', $1, 'h', $2, $3)`,
        [name, reservation, at],
      );
    await token("old-token", "r-0000000000000000a", ago(25 * HOUR_MS));
    await token("old-token-live", liveReservation, ago(25 * HOUR_MS));
    await token("new-token", "r-0000000000000000b", ago(HOUR_MS));

    await eventually(
      async () =>
        (await pruned("lifecycle", "lifecycle.idempotency_keys")) >= 1 &&
        (await pruned("lifecycle", "lifecycle.client_tokens")) >= 1
          ? true
          : undefined,
      5_000,
      "lifecycle pruned its keys and tokens",
    );
    expect(await ids("lifecycle.idempotency_keys", "key")).toEqual(["new-key"]);
    expect(await ids("lifecycle.client_tokens", "token")).toEqual(["new-token", "old-token-live"]);
  });
});
