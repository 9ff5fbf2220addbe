import { connect } from "@nats-io/transport-node";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { eventually, useStack } from "./harness.ts";
import {
  ADMIN_KEY,
  authEnv,
  expectProblem,
  type Keyed,
  keyed,
  newTenant,
  runningServer,
} from "./tenancy-helpers.ts";

const LEDGER_LINES = 20_000;
const SUMMARY_SERVERS = 3_000;
const TENANTS = 250;

/** Nano-units of a money string ("1.500000" is 1500000000n). */
const nanos = (amount: string) => {
  const [whole = "0", fraction = ""] = amount.split(".");
  return BigInt(whole) * 1_000_000_000n + BigInt(fraction.padEnd(9, "0"));
};
const totalOf = (rows: { amount: string }[]) => rows.reduce((sum, r) => sum + nanos(r.amount), 0n);

/** Every page of `path`, following next_cursor; each page must be 200 and hold at most `limit` of `list`. */
async function readAll(api: Keyed, path: string, limit: number, list: string) {
  // biome-ignore lint/suspicious/noExplicitAny: pages are read loosely and asserted on
  const pages: any[] = [];
  let cursor: string | null = null;
  do {
    const url: string = `${path}${path.includes("?") ? "&" : "?"}limit=${limit}${cursor ? `&cursor=${cursor}` : ""}`;
    const res = await api.get(url);
    expect(res.status, `${url}: ${JSON.stringify(res.body).slice(0, 500)}`).toBe(200);
    expect(res.body[list].length).toBeLessThanOrEqual(limit);
    pages.push(res.body);
    cursor = res.body.next_cursor;
    if (pages.length > 1_000) throw new Error("paging does not end");
  } while (cursor);
  return pages;
}

describe("long lists come a page at a time", () => {
  const ctx = useStack({
    env: { ...authEnv, BILLING_INTERVAL: "1h", STOP_DELAY: "200ms" },
  });
  const admin = () => keyed(ctx.stack.url, ADMIN_KEY);
  let db: pg.Client;
  beforeAll(async () => {
    db = new pg.Client({ connectionString: ctx.stack.database.url });
    await db.connect();
  });
  afterAll(() => db?.end());

  it("reads a ledger of 20,000 lines whole, page by page, each line once, in order", async () => {
    const tenant = keyed(ctx.stack.url, (await newTenant(ctx.stack.url, "ledger")).key);
    const id = await runningServer(tenant);
    expect((await tenant.post(`/servers/${id}/action`, { action: "stop" })).status).toBe(202);
    // The stop's settlement is the server's last line of its own: nothing is added while the test reads.
    await eventually(async () =>
      (await db.query("SELECT 1 FROM billing.ledger WHERE server_id = $1 AND kind = 'settlement'", [id])).rows
        .length > 0
        ? true
        : undefined,
    );
    await db.query(
      `INSERT INTO billing.ledger (server_id, at, kind, billed_ms, amount, rate)
       SELECT $1, now() + i * interval '1 minute', 'accrual', 60000 + i, (i * 0.000001)::numeric(24, 9), 0.1
       FROM generate_series(1, $2::int) AS i`,
      [id, LEDGER_LINES],
    );
    const stored = await db.query<{ id: string; amount: string; billed_ms: string }>(
      "SELECT l.id::text, l.amount::text, l.billed_ms::text FROM billing.ledger l WHERE l.server_id = $1 ORDER BY l.id",
      [id],
    );
    expect(stored.rows.length).toBeGreaterThan(LEDGER_LINES);

    const pages = await readAll(tenant, `/servers/${id}/billing`, 1000, "items");
    const items = pages.flatMap((page) => page.items);
    expect(items.map((line) => line.id)).toEqual(stored.rows.map((row) => row.id));
    expect(pages.at(-1).next_cursor).toBeNull();

    // The whole ledger as one reply would not fit one NATS message.
    const nc = await connect({ servers: inject("natsUrl") });
    const maxPayload = nc.info?.max_payload ?? 0;
    await nc.close();
    expect(maxPayload).toBeGreaterThan(0);
    expect(Buffer.byteLength(JSON.stringify({ ...pages[0], items, next_cursor: null }))).toBeGreaterThan(
      maxPayload,
    );

    // Every page shows the totals of every line, and they are the sum of the lines read.
    const amount = stored.rows.reduce((sum, row) => sum + nanos(row.amount), 0n);
    const billedMs = stored.rows.reduce((sum, row) => sum + BigInt(row.billed_ms), 0n);
    expect(totalOf(items)).toBe(amount);
    for (const page of pages) {
      expect(nanos(page.amount)).toBe(amount);
      expect(page.billable_seconds).toBe(Number(billedMs) / 1000);
    }
  });

  it("pages the summary's by_server over 3,000 servers; its totals are over every one", async () => {
    await db.query(
      `WITH made AS (
         INSERT INTO billing.servers (server_id, type, region, rate)
         SELECT gen_random_uuid(), (ARRAY['t2.nano', 'm5.large'])[1 + i % 2],
                (ARRAY['us-east-1', 'eu-west-1', 'ap-southeast-1'])[1 + i % 3], 0.1
         FROM generate_series(1, $1::int) AS i
         RETURNING server_id
       )
       INSERT INTO billing.ledger (server_id, at, kind, billed_ms, amount, rate)
       SELECT server_id, now(), 'settlement', 60000, 0.123456, 0.1 FROM made`,
      [SUMMARY_SERVERS],
    );
    const stored = await db.query<{ server_id: string }>(
      "SELECT DISTINCT server_id::text FROM billing.ledger WHERE server_id IS NOT NULL ORDER BY server_id",
    );
    expect(stored.rows.length).toBeGreaterThan(SUMMARY_SERVERS);

    const pages = await readAll(admin(), "/billing/summary", 100, "by_server");
    const byServer = pages.flatMap((page) => page.by_server);
    expect(byServer.map((row) => row.server_id)).toEqual(stored.rows.map((row) => row.server_id));
    expect(pages.at(-1).next_cursor).toBeNull();
    const total = totalOf(byServer);
    for (const page of pages) {
      expect(nanos(page.total.amount)).toBe(total);
      expect(totalOf(page.by_type)).toBe(total);
      expect(totalOf(page.by_region)).toBe(total);
    }
  });

  it("pages the tenants, oldest first, each once", async () => {
    await db.query(
      `INSERT INTO lifecycle.tenants (id, name, created_at)
       SELECT 'paged-' || i, 'paged ' || i, now() - (i % 7) * interval '1 second' FROM generate_series(1, $1::int) AS i`,
      [TENANTS],
    );
    const stored = await db.query<{ id: string }>("SELECT id FROM lifecycle.tenants ORDER BY created_at, id");
    expect(stored.rows.length).toBeGreaterThan(TENANTS);
    const pages = await readAll(admin(), "/admin/tenants", 7, "items");
    expect(pages.flatMap((page) => page.items).map((tenant) => tenant.id)).toEqual(
      stored.rows.map((row) => row.id),
    );
    expect((await admin().get("/admin/tenants")).body.items).toHaveLength(20);
  });

  it("refuses a page size out of range or a cursor it did not give, naming the parameter", async () => {
    const id = "0190b5a1-0000-7000-8000-000000000000";
    const bad = [
      ["/admin/tenants?limit=0", "limit"],
      ["/admin/tenants?limit=101", "limit"],
      ["/admin/tenants?cursor=bm90IGEga2V5IQ", "cursor"],
      ["/billing/summary?limit=101", "limit"],
      ["/billing/summary?cursor=MTIz", "cursor"],
      [`/servers/${id}/billing?limit=1001`, "limit"],
      [`/servers/${id}/billing?cursor=YWJj`, "cursor"],
    ] as const;
    for (const [path, field] of bad) {
      const res = await admin().get(path);
      expectProblem(res, 400, "VALIDATION");
      expect(
        res.body.fields.map((f: { field: string }) => f.field),
        path,
      ).toContain(field);
    }
  });
});
