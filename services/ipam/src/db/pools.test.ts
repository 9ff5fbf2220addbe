import { fileURLToPath } from "node:url";
import { createDatabase, createLogger, type Database, migrateSchema, realClock } from "@cloudsim/shared";
import { parseCidr } from "@cloudsim/shared/cidr";
import { createTestDatabase, type TestDatabase } from "@cloudsim/shared/testing";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { DEFAULT_PUBLIC_POOL } from "../domain/pools.ts";
import { ensurePools } from "./pools.ts";

const folder = fileURLToPath(new URL("./migrations", import.meta.url));
const publicPool = parseCidr(DEFAULT_PUBLIC_POOL);

describe("a pool whose CIDR changes in IPAM_POOLS", () => {
  let testDb: TestDatabase;
  let database: Database;
  beforeAll(async () => {
    testDb = await createTestDatabase(inject("postgresAdminUrl"));
    database = createDatabase(testDb.url, 2, createLogger("test", "silent"));
    await migrateSchema(database.pool, "ipam", folder);
  });
  afterAll(async () => {
    await database?.pool.end();
    await testDb?.drop();
  });

  const addresses = async () =>
    (
      await database.pool.query<{ address: string }>(
        "SELECT host(address) AS address FROM ipam.addresses WHERE pool_id = 'us-east-1' ORDER BY address",
      )
    ).rows.map((r) => r.address);

  it("takes the new range's addresses and none of the old one's, while none is in use", async () => {
    await ensurePools(
      database.db,
      [{ region: "us-east-1", cidr: parseCidr("10.9.0.0/30") }],
      publicPool,
      realClock,
    );
    expect(await addresses()).toEqual(["10.9.0.2"]);
    await ensurePools(
      database.db,
      [{ region: "us-east-1", cidr: parseCidr("10.8.0.0/29") }],
      publicPool,
      realClock,
    );
    expect(await addresses()).toEqual(["10.8.0.2", "10.8.0.3", "10.8.0.4", "10.8.0.5", "10.8.0.6"]);
  });

  it("refuses the change while an address of the old range is in use, keeping every row", async () => {
    await database.pool.query(
      "UPDATE ipam.addresses SET server_id = gen_random_uuid(), allocated_at = '2030-01-01T00:00:00Z' WHERE address = '10.8.0.2'",
    );
    await expect(
      ensurePools(
        database.db,
        [{ region: "us-east-1", cidr: parseCidr("10.7.0.0/30") }],
        publicPool,
        realClock,
      ),
    ).rejects.toThrow(/1 addresses in use; it cannot become 10.7.0.0\/30/);
    expect(await addresses()).toHaveLength(5);
  });
});
