import { randomUUID } from "node:crypto";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Clock, createDatabase, createLogger, type Database, migrateSchema } from "@cloudsim/shared";
import { ipToInt, parseCidr } from "@cloudsim/shared/cidr";
import { createTestDatabase, type TestDatabase } from "@cloudsim/shared/testing";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { extendPool, FIRST_CHUNK, MAX_CHUNK } from "./pools.ts";
import { IpamRepository } from "./repository.ts";

const log = createLogger("test", "silent");
const folder = fileURLToPath(new URL("./migrations", import.meta.url));
const COOLDOWN_MS = 60_000;

let now = Date.parse("2030-01-01T00:00:00.000Z");
const clock: Clock = { now: () => now };

const ids = (n: number) => Array.from({ length: n }, () => randomUUID());

describe("addresses created a chunk at a time", () => {
  let testDb: TestDatabase;
  let database: Database;
  /** A second connection pool and repository: another replica. */
  let other: Database;
  let repo: IpamRepository;
  let otherRepo: IpamRepository;
  beforeAll(async () => {
    testDb = await createTestDatabase(inject("postgresAdminUrl"));
    database = createDatabase(testDb.url, 10, log);
    other = createDatabase(testDb.url, 10, log);
    await migrateSchema(database.pool, "ipam", folder);
    repo = new IpamRepository(database.db, COOLDOWN_MS, clock);
    otherRepo = new IpamRepository(other.db, COOLDOWN_MS, clock);
    await repo.ensurePools([
      { region: "us-east-1", cidr: parseCidr("10.0.0.0/16") },
      { region: "us-west-2", cidr: parseCidr("10.1.0.0/21") },
      { region: "eu-west-1", cidr: parseCidr("10.2.0.0/28") },
      { region: "eu-central-1", cidr: parseCidr("10.3.0.0/16") },
    ]);
  });
  afterAll(async () => {
    await database?.pool.end();
    await other?.pool.end();
    await testDb?.drop();
  });

  const rows = async (region: string) => {
    const r = await database.pool.query<{ rows: number; distinct: number; materialised: number }>(
      `SELECT count(*)::int AS rows, count(DISTINCT a.address)::int AS distinct, p.materialised
       FROM ipam.pools p LEFT JOIN ipam.addresses a ON a.pool_id = p.id WHERE p.id = $1 GROUP BY p.materialised`,
      [region],
    );
    return r.rows[0];
  };

  /** Offsets of the addresses from the pool's first usable one. */
  const offsets = (addresses: (string | null)[], first: string) =>
    addresses.map((a) => ipToInt(a ?? "0.0.0.0") - ipToInt(first));

  it("a /16 starts with one chunk, its claims spread over the rows that exist", async () => {
    expect(await rows("us-east-1")).toEqual({
      rows: FIRST_CHUNK,
      distinct: FIRST_CHUNK,
      materialised: FIRST_CHUNK,
    });
    const got = await Promise.all(ids(20).map((id) => repo.allocate(id, "us-east-1")));
    const at = offsets(got, "10.0.0.2");
    expect(at.every((o) => o >= 0 && o < FIRST_CHUNK)).toBe(true);
    // Starting points over the whole /16 would wrap nearly every claim round to the lowest rows.
    expect(at.filter((o) => o < 20).length).toBeLessThan(10);
  });

  it("allocating more than a chunk's worth creates the next, never handing out an address twice", async () => {
    const servers = ids(FIRST_CHUNK + 100);
    const got: string[] = [];
    for (let i = 0; i < servers.length; i += 100) {
      const batch = servers.slice(i, i + 100).map((server_id) => ({ server_id, pool_id: "us-east-1" }));
      const answered = await repo.allocateMany(batch);
      for (const a of answered) got.push(a.address as string);
    }
    // And one at a time, past the next boundary too.
    const singles = ids(FIRST_CHUNK);
    for (const id of singles) got.push(await repo.allocate(id, "us-east-1"));
    expect(got.every(Boolean)).toBe(true);
    expect(new Set(got).size).toBe(got.length);
    // A server keeps its address, whatever chunk it came from.
    expect(await repo.allocate(servers[0] as string, "us-east-1")).toBe(got[0]);
    expect(await repo.allocate(singles.at(-1) as string, "us-east-1")).toBe(got.at(-1));
    expect(await repo.allocateMany([{ server_id: singles[0] as string, pool_id: "us-east-1" }])).toEqual([
      { server_id: singles[0], address: got[servers.length] },
    ]);
    const used = 20 + FIRST_CHUNK + 100 + FIRST_CHUNK;
    // 1024, then doubling: 2048, 4096.
    expect(await rows("us-east-1")).toEqual({
      rows: 4 * FIRST_CHUNK,
      distinct: 4 * FIRST_CHUNK,
      materialised: 4 * FIRST_CHUNK,
    });
    expect(await repo.usageOf("us-east-1")).toMatchObject([
      { size: 65533, used, cooling_down: 0, free: 65533 - used },
    ]);
  });

  it("extends by doubling, at most MAX_CHUNK at a time and never past the pool", async () => {
    // us-west-2 is a /21: 2045 addresses, 1024 made with the pool.
    expect(await extendPool(database.db, "us-west-2", FIRST_CHUNK)).toBe(2045 - FIRST_CHUNK);
    expect(await extendPool(database.db, "us-west-2", 2045)).toBe(0);
    expect(await rows("us-west-2")).toEqual({ rows: 2045, distinct: 2045, materialised: 2045 });
    // A large pool grows by what it has, up to the cap; a count that moved on adds nothing.
    await database.pool.query("UPDATE ipam.pools SET materialised = 16384 WHERE id = 'eu-central-1'");
    expect(await extendPool(database.db, "eu-central-1", FIRST_CHUNK)).toBe(0);
    expect(await extendPool(database.db, "eu-central-1", 16384)).toBe(MAX_CHUNK);
    expect(await rows("eu-central-1")).toEqual({
      rows: FIRST_CHUNK + MAX_CHUNK,
      distinct: FIRST_CHUNK + MAX_CHUNK,
      materialised: 16384 + MAX_CHUNK,
    });
    // Back to its first chunk for the concurrency test below.
    await database.pool.query(
      "DELETE FROM ipam.addresses WHERE pool_id = 'eu-central-1' AND address >= '10.3.0.2'::inet + $1::int",
      [FIRST_CHUNK],
    );
    await database.pool.query("UPDATE ipam.pools SET materialised = $1 WHERE id = 'eu-central-1'", [
      FIRST_CHUNK,
    ]);
  });

  it("concurrent extensions from the same count add one chunk between them", async () => {
    // us-east-1 has 4096 rows after the tests above.
    const seen = 4 * FIRST_CHUNK;
    expect(await rows("us-east-1")).toMatchObject({ rows: seen, materialised: seen });
    const added = await Promise.all([
      ...Array.from({ length: 5 }, () => extendPool(database.db, "us-east-1", seen)),
      ...Array.from({ length: 5 }, () => extendPool(other.db, "us-east-1", seen)),
    ]);
    expect(added.filter((n) => n > 0)).toEqual([seen]);
    expect(await rows("us-east-1")).toEqual({ rows: 2 * seen, distinct: 2 * seen, materialised: 2 * seen });
  });

  it("50 allocations at once across a chunk boundary, from two replicas, all succeed with distinct addresses", async () => {
    // All but 20 of the first chunk in use.
    const filler = ids(FIRST_CHUNK - 20);
    for (let i = 0; i < filler.length; i += 100) {
      const batch = filler.slice(i, i + 100).map((server_id) => ({ server_id, pool_id: "eu-central-1" }));
      expect((await repo.allocateMany(batch)).every((a) => a.address)).toBe(true);
    }
    expect(await rows("eu-central-1")).toMatchObject({ rows: FIRST_CHUNK });
    const servers = ids(50);
    const got = await Promise.all(
      servers.map((id, i) => (i % 2 ? repo : otherRepo).allocate(id, "eu-central-1")),
    );
    expect(new Set(got).size).toBe(50);
    const held = await database.pool.query<{ n: number }>(
      "SELECT count(DISTINCT address)::int AS n FROM ipam.addresses WHERE pool_id = 'eu-central-1' AND server_id IS NOT NULL",
    );
    expect(held.rows[0]?.n).toBe(FIRST_CHUNK - 20 + 50);
    // One extension between them, not one per claim that found none free.
    expect(await rows("eu-central-1")).toEqual({
      rows: 2 * FIRST_CHUNK,
      distinct: 2 * FIRST_CHUNK,
      materialised: 2 * FIRST_CHUNK,
    });

    // And batches at once over the next boundary: 1024 - 30 free, 12 batches of 100.
    const batches = Array.from({ length: 12 }, () =>
      ids(100).map((server_id) => ({ server_id, pool_id: "eu-central-1" })),
    );
    const answered = (
      await Promise.all(batches.map((batch, i) => (i % 2 ? repo : otherRepo).allocateMany(batch)))
    ).flat();
    expect(answered.every((a) => a.address)).toBe(true);
    const addresses = [...got, ...answered.map((a) => a.address)];
    expect(new Set(addresses).size).toBe(addresses.length);
    expect(await rows("eu-central-1")).toMatchObject({
      rows: 4 * FIRST_CHUNK,
      materialised: 4 * FIRST_CHUNK,
    });
  });

  it("a small pool exhausts with the counts, and frees again after a release and its cooldown", async () => {
    const servers = ids(13);
    const got: string[] = [];
    for (const id of servers) got.push(await repo.allocate(id, "eu-west-1"));
    expect(new Set(got).size).toBe(13);
    expect(await rows("eu-west-1")).toEqual({ rows: 13, distinct: 13, materialised: 13 });
    await expect(repo.allocate(randomUUID(), "eu-west-1")).rejects.toMatchObject({
      code: "EXHAUSTED",
      message: "no free address in eu-west-1: pool 10.2.0.0/28 has 13 addresses, 13 in use",
      details: { region: "eu-west-1", cidr: "10.2.0.0/28", size: 13, used: 13, cooling_down: 0 },
    });
    const [released] = await repo.release([servers[3] as string]);
    expect(released?.address).toBe(got[3]);
    const late = randomUUID();
    await expect(repo.allocate(late, "eu-west-1")).rejects.toMatchObject({
      code: "EXHAUSTED",
      message:
        "no free address in eu-west-1: pool 10.2.0.0/28 has 13 addresses, 12 in use; 1 released addresses are in their reuse cooldown",
      details: { size: 13, used: 12, cooling_down: 1 },
    });
    expect(await repo.allocateMany([{ server_id: late, pool_id: "eu-west-1" }])).toEqual([
      { server_id: late, address: null },
    ]);
    expect(await repo.usageOf("eu-west-1")).toMatchObject([{ size: 13, used: 12, cooling_down: 1, free: 0 }]);
    now += COOLDOWN_MS;
    expect(await repo.usageOf("eu-west-1")).toMatchObject([{ used: 12, cooling_down: 0, free: 1 }]);
    expect(await repo.allocate(late, "eu-west-1")).toBe(got[3]);
    await expect(repo.allocate(randomUUID(), "eu-west-1")).rejects.toMatchObject({ code: "EXHAUSTED" });
    expect(await rows("eu-west-1")).toEqual({ rows: 13, distinct: 13, materialised: 13 });
  });

  it("a pool exhausts only once its last chunk is made and used", async () => {
    // us-west-2, a /21, back to its first chunk of 1024 rows.
    await database.pool.query(
      "DELETE FROM ipam.addresses WHERE pool_id = 'us-west-2' AND address >= '10.1.4.2'",
    );
    await database.pool.query("UPDATE ipam.pools SET materialised = $1 WHERE id = 'us-west-2'", [
      FIRST_CHUNK,
    ]);
    const servers = ids(2045);
    const got: (string | null)[] = [];
    for (let i = 0; i < servers.length; i += 300) {
      const batch = servers.slice(i, i + 300).map((server_id) => ({ server_id, pool_id: "us-west-2" }));
      for (const a of await repo.allocateMany(batch)) got.push(a.address);
    }
    expect(got.every(Boolean)).toBe(true);
    expect(new Set(got).size).toBe(2045);
    await expect(repo.allocate(randomUUID(), "us-west-2")).rejects.toMatchObject({
      code: "EXHAUSTED",
      details: { size: 2045, used: 2045, cooling_down: 0 },
    });
    expect(await repo.usageOf("us-west-2")).toMatchObject([{ free: 0 }]);
  });
});

describe("a pool whose every address was made with it (before chunks)", () => {
  let testDb: TestDatabase;
  let database: Database;
  let oldFolder: string;
  beforeAll(async () => {
    testDb = await createTestDatabase(inject("postgresAdminUrl"));
    database = createDatabase(testDb.url, 4, log);
    // The migrations up to 0004, and the pool as the code of then made it.
    oldFolder = mkdtempSync(join(tmpdir(), "ipam-migrations-"));
    cpSync(folder, oldFolder, { recursive: true });
    const journalPath = join(oldFolder, "meta", "_journal.json");
    const journal = JSON.parse(readFileSync(journalPath, "utf8"));
    journal.entries = journal.entries.filter((e: { idx: number }) => e.idx <= 4);
    writeFileSync(journalPath, JSON.stringify(journal));
    await migrateSchema(database.pool, "ipam", oldFolder);
    await database.pool.query(
      "INSERT INTO ipam.pools (region, cidr, size, created_at) VALUES ('us-east-1', '10.0.0.0/16', 65533, now())",
    );
    await database.pool.query(
      `INSERT INTO ipam.addresses (region, address)
       SELECT 'us-east-1', '10.0.0.2'::inet + g FROM generate_series(0, 65533 - 1) AS g`,
    );
    await migrateSchema(database.pool, "ipam", folder);
  });
  afterAll(async () => {
    await database?.pool.end();
    await testDb?.drop();
    if (oldFolder) rmSync(oldFolder, { recursive: true, force: true });
  });

  it("is marked whole, stays as it is and still allocates over all of it", async () => {
    const repo = new IpamRepository(database.db, COOLDOWN_MS, clock);
    const pool = await database.pool.query(
      "SELECT size, materialised FROM ipam.pools WHERE id = 'us-east-1'",
    );
    expect(pool.rows).toEqual([{ size: 65533, materialised: 65533 }]);
    await repo.ensurePools([{ region: "us-east-1", cidr: parseCidr("10.0.0.0/16") }]);
    const got = await Promise.all(ids(20).map((id) => repo.allocate(id, "us-east-1")));
    expect(new Set(got).size).toBe(20);
    // Starting points over the whole pool: some past the first chunk's worth.
    expect(got.some((a) => ipToInt(a) - ipToInt("10.0.0.2") >= FIRST_CHUNK)).toBe(true);
    const count = await database.pool.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM ipam.addresses WHERE pool_id = 'us-east-1'",
    );
    expect(count.rows[0]?.n).toBe(65533);
    expect(await repo.usageOf("us-east-1")).toMatchObject([{ size: 65533, used: 20, free: 65513 }]);
  });
});
