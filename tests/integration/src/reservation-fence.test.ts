import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, fastEnv, useStack } from "./harness.ts";
import { ADMIN_KEY, authEnv, expectProblem, keyed, newTenant } from "./tenancy-helpers.ts";

/** Regions whose pool is one address (a /30 less its network, gateway and broadcast): whoever holds it, no one else can. */
const oneAddress = {
  "eu-central-1": "10.3.0.0/30",
  "ap-southeast-1": "10.4.0.0/30",
  "us-west-2": "10.1.0.0/30",
};
const pools = (fastEnv.IPAM_POOLS ?? "")
  .split(",")
  .map((entry) => {
    const region = entry.split("=")[0] as keyof typeof oneAddress;
    return oneAddress[region] ? `${region}=${oneAddress[region]}` : entry;
  })
  .join(",");

describe("an address is never live on two servers", () => {
  const ctx = useStack({
    env: {
      ...authEnv,
      IPAM_POOLS: pools,
      IP_CONFIRM_TIMEOUT: "300ms",
      IP_RECONCILE_INTERVAL: "50ms",
      // A released address may go to the next server at once, as it would after the cooldown.
      IP_REUSE_COOLDOWN: "0ms",
    },
  });
  /** The test's own connection, as a superuser: it reads every schema and holds the locks. */
  let db: pg.Client;
  /** A connection that holds a lock a provision's insert needs, until `COMMIT`. */
  let blocker: pg.Client;
  beforeAll(async () => {
    db = new pg.Client({ connectionString: ctx.stack.database.url });
    blocker = new pg.Client({ connectionString: ctx.stack.database.url });
    await Promise.all([db.connect(), blocker.connect()]);
  });
  afterAll(() => Promise.all([db?.end(), blocker?.end()]));

  const admin = () => keyed(ctx.stack.url, ADMIN_KEY);

  /** The server ipam holds the region's one address for, if any. */
  const holder = async (region: string) =>
    (
      await db.query<{ server_id: string | null }>(
        "SELECT server_id FROM ipam.addresses WHERE pool_id = $1",
        [region],
      )
    ).rows[0]?.server_id ?? null;

  /**
   * No address of the region is live on two servers (in lifecycle's table and in the API's
   * list), and ipam holds each live server's address for that server.
   */
  async function expectOneServerPerAddress(region: string) {
    const shared = await db.query(
      `SELECT host(ip_address) AS address, array_agg(id) AS servers FROM lifecycle.servers
       WHERE region = $1 AND ip_address IS NOT NULL AND state NOT IN ('terminated', 'error')
       GROUP BY ip_address HAVING count(*) > 1`,
      [region],
    );
    expect(shared.rows).toEqual([]);
    const listed = await admin().get(`/servers?region=${region}&limit=100`);
    expect(listed.body.next_cursor).toBeNull();
    const addresses = listed.body.items.flatMap((s: { ip_address: string | null }) =>
      s.ip_address ? [s.ip_address] : [],
    );
    expect(new Set(addresses).size).toBe(addresses.length);
    const unbooked = await db.query(
      `SELECT s.id, host(s.ip_address) AS address FROM lifecycle.servers s
       WHERE s.region = $1 AND s.ip_address IS NOT NULL AND s.state NOT IN ('terminated', 'error')
         AND NOT EXISTS (SELECT 1 FROM ipam.addresses a WHERE a.address = s.ip_address AND a.server_id = s.id)`,
      [region],
    );
    expect(unbooked.rows).toEqual([]);
  }

  it("a provision whose insert comes after the reservation check gave its address up is refused", async () => {
    const region = "eu-central-1";
    const tenant = await newTenant(ctx.stack.url, "late-insert");
    // Inserts into servers wait; reads (the reservation check's) do not.
    await blocker.query("BEGIN");
    await blocker.query("LOCK TABLE lifecycle.servers IN SHARE MODE");
    try {
      const late = keyed(ctx.stack.url, tenant.key).post("/servers", { region, type: "t2.nano" });
      const lateId = await eventually(() => holder(region).then((id) => id ?? undefined), 5_000, "allocated");
      // The reservation check ran for it: its address went back to the pool.
      await eventually(
        async () => ((await holder(region)) === null ? true : undefined),
        5_000,
        "the reservation released the address",
      );
      const other = admin().post("/servers", { region, type: "t2.nano" });
      // The other provision has the address; its insert waits for the lock as the late one's does.
      await eventually(
        async () => {
          const id = await holder(region);
          return id !== null && id !== lateId ? true : undefined;
        },
        5_000,
        "the address went to another server",
      );
      await blocker.query("COMMIT");
      const [lateAnswer, otherAnswer] = await Promise.all([late, other]);
      expect(otherAnswer.status, JSON.stringify(otherAnswer.body)).toBe(201);
      await expectOneServerPerAddress(region);
      // The late provision created nothing and says so, with a code a client retries on.
      expectProblem(lateAnswer, 503, "UNAVAILABLE");
      expect(lateAnswer.body).toMatchObject({ reason: "abandoned", server_id: lateId });
      expect((await admin().get(`/servers/${lateId}`)).status).toBe(404);
      const tombstones = await db.query("SELECT 1 FROM lifecycle.abandoned_servers WHERE id = $1", [lateId]);
      expect(tombstones.rowCount).toBe(1);
      // Its failure gave back nothing of the other server's.
      expect(await holder(region)).toBe(otherAnswer.body.id);
    } finally {
      await blocker.query("ROLLBACK");
    }
  });

  it("a provision whose insert is under way when the reservation check asks keeps its address", async () => {
    const region = "ap-southeast-1";
    const tenant = await newTenant(ctx.stack.url, "slow-insert");
    // The insert waits for its tenant's row (the usage trigger), after it began.
    await blocker.query("BEGIN");
    await blocker.query("SELECT 1 FROM lifecycle.tenants WHERE id = $1 FOR UPDATE", [tenant.id]);
    try {
      const late = keyed(ctx.stack.url, tenant.key).post("/servers", { region, type: "t2.nano" });
      const lateId = await eventually(() => holder(region).then((id) => id ?? undefined), 5_000, "allocated");
      // The reservation check ran for it: it found the insert under way (or gave the address up).
      await eventually(
        async () =>
          ctx.stack.logs.lines.some(
            (l) => l.service === "ipam" && l.server_id === lateId && l.outcome === "pending",
          ) || (await holder(region)) !== lateId
            ? true
            : undefined,
        5_000,
        "the reservation check asked about the server",
      );
      let otherAnswered = false;
      const other = admin()
        .post("/servers", { region, type: "t2.nano" })
        .finally(() => {
          otherAnswered = true;
        });
      // It is answered, or has the address and its store waits behind the late one's.
      await eventually(
        async () => (otherAnswered || ![null, lateId].includes(await holder(region)) ? true : undefined),
        5_000,
        "the other provision was answered or has the address",
      );
      await blocker.query("COMMIT");
      const [lateAnswer, otherAnswer] = await Promise.all([late, other]);
      await expectOneServerPerAddress(region);
      expect(lateAnswer.status, JSON.stringify(lateAnswer.body)).toBe(201);
      // The region's one address stayed with the late server.
      expectProblem(otherAnswer, 409, "EXHAUSTED");
      expect(await holder(region)).toBe(lateId);
    } finally {
      await blocker.query("ROLLBACK");
    }
  });

  it("an address ipam hands out while a live server holds it is refused, with a typed error", async () => {
    const region = "us-west-2";
    const live = await admin().post("/servers", { region, type: "t2.nano" });
    expect(live.status, JSON.stringify(live.body)).toBe(201);
    // ipam's books lose the address (what a late insert would have left behind).
    await db.query(
      "UPDATE ipam.addresses SET server_id = NULL, allocated_at = NULL, confirmed_at = NULL WHERE pool_id = $1",
      [region],
    );
    const second = await admin().post("/servers", { region, type: "t2.nano" });
    expectProblem(second, 503, "UNAVAILABLE");
    expect(second.body.address).toBe(live.body.ip_address);
    const holders = await db.query(
      "SELECT id FROM lifecycle.servers WHERE region = $1 AND host(ip_address) = $2",
      [region, live.body.ip_address],
    );
    expect(holders.rows).toEqual([{ id: live.body.id }]);
  });
});
