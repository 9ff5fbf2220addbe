import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import { type Clock, createDatabase, createLogger, type Database, migrateSchema } from "@cloudsim/shared";
import { parseCidr } from "@cloudsim/shared/cidr";
import { createTestDatabase, type TestDatabase } from "@cloudsim/shared/testing";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { IpamRepository } from "./repository.ts";

const log = createLogger("test", "silent");
const folder = fileURLToPath(new URL("./migrations", import.meta.url));
const COOLDOWN_MS = 60_000;

/** A clock of the test's own, years ahead of the machine's: cooldowns and reservations age on it alone. */
let now = Date.parse("2030-01-01T00:00:00.000Z");
const clock: Clock = { now: () => now };

describe("ipam on its clock", () => {
  let testDb: TestDatabase;
  let database: Database;
  let repo: IpamRepository;
  beforeAll(async () => {
    testDb = await createTestDatabase(inject("postgresAdminUrl"));
    database = createDatabase(testDb.url, 2, log);
    await migrateSchema(database.pool, "ipam", folder);
    repo = new IpamRepository(database.db, COOLDOWN_MS, clock);
    // One usable address: what is free and what cools down is plain to see.
    await repo.ensurePools([{ region: "us-east-1", cidr: parseCidr("10.9.0.0/30") }]);
  });
  afterAll(async () => {
    await database?.pool.end();
    await testDb?.drop();
  });

  const row = async () =>
    (
      await database.pool.query<{
        server_id: string | null;
        allocated_at: Date | null;
        confirmed_at: Date | null;
        released_at: Date | null;
      }>(
        "SELECT server_id, allocated_at, confirmed_at, released_at FROM ipam.addresses WHERE pool_id = 'us-east-1'",
      )
    ).rows;

  it("stamps the pool, allocations, confirmations and releases at the clock's time", async () => {
    const created = await database.pool.query<{ created_at: Date }>(
      "SELECT created_at FROM ipam.pools WHERE id = 'us-east-1'",
    );
    expect(created.rows).toEqual([{ created_at: new Date(now) }]);

    const first = randomUUID();
    const address = await repo.allocate(first, "us-east-1");
    expect(await row()).toEqual([
      { server_id: first, allocated_at: new Date(now), confirmed_at: null, released_at: null },
    ]);

    // A reservation ages on the clock: unconfirmed past the timeout only once the clock says so.
    expect(await repo.unconfirmedSince(10_000, 10)).toEqual([]);
    now += 11_000;
    expect(await repo.unconfirmedSince(10_000, 10)).toEqual([first]);
    await repo.confirm([first]);
    expect((await row())[0]?.confirmed_at).toEqual(new Date(now));
    expect(await repo.unconfirmedSince(10_000, 10)).toEqual([]);

    // Released through the event: the row and the event's occurred_at are the clock's time.
    await repo.releaseForEvents([{ id: randomUUID(), serverId: first, requestId: null }]);
    expect(await row()).toEqual([
      { server_id: null, allocated_at: null, confirmed_at: null, released_at: new Date(now) },
    ]);
    const events = await database.pool.query<{ payload: { occurred_at: string; address: string } }>(
      "SELECT payload FROM ipam.outbox",
    );
    expect(events.rows).toEqual([
      { payload: expect.objectContaining({ occurred_at: new Date(now).toISOString(), address }) },
    ]);

    // The cooldown runs on the clock: EXHAUSTED naming it, until the clock passes it.
    expect(await repo.usageOf("us-east-1")).toMatchObject([{ used: 0, cooling_down: 1, free: 0 }]);
    await expect(repo.allocate(randomUUID(), "us-east-1")).rejects.toMatchObject({ code: "EXHAUSTED" });
    now += COOLDOWN_MS;
    expect(await repo.usageOf("us-east-1")).toMatchObject([{ used: 0, cooling_down: 0, free: 1 }]);
    const second = randomUUID();
    expect(await repo.allocateMany([{ server_id: second, pool_id: "us-east-1" }])).toEqual([
      { server_id: second, address },
    ]);
    expect((await row())[0]).toMatchObject({ server_id: second, allocated_at: new Date(now) });
  });
});
