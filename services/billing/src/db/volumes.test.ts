import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import {
  type Clock,
  createDatabase,
  createLogger,
  type Database,
  migrateSchema,
  uuidv7,
  type VolumeState,
  type VolumeStateChanged,
} from "@cloudsim/shared";
import { createTestDatabase, type TestDatabase } from "@cloudsim/shared/testing";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { parseMoney } from "../domain/money.ts";
import { rateTable } from "../domain/rates.ts";
import { BillingRepository } from "./repository.ts";

const log = createLogger("test", "silent");
const folder = fileURLToPath(new URL("./migrations", import.meta.url));
const HOUR = 3_600_000;

let now = Date.parse("2030-01-01T00:00:00.000Z");
const clock: Clock = { now: () => now };
const start = now;

const event = (volumeId: string, toState: VolumeState, at: number, tenant = "t1"): VolumeStateChanged => ({
  id: uuidv7(),
  type: "volume.state_changed",
  occurred_at: new Date(at).toISOString(),
  volume_id: volumeId,
  tenant_id: tenant,
  request_id: null,
  from_state: null,
  to_state: toState,
  volume: {
    volume_id: `vol-${volumeId.replaceAll("-", "").slice(-17)}`,
    region: "us-east-1",
    size_gib: 100,
    volume_type: "gp3",
  },
});

describe("volume billing in billing's tables", () => {
  let testDb: TestDatabase;
  let database: Database;
  let replicas: BillingRepository[];
  beforeAll(async () => {
    testDb = await createTestDatabase(inject("postgresAdminUrl"));
    database = createDatabase(testDb.url, 6, log);
    await migrateSchema(database.pool, "billing", folder);
    const opts = {
      rates: rateTable(parseMoney("0.01")),
      volumeRate: parseMoney("0.08"),
      minimumMs: 0,
      currency: "USD",
    };
    replicas = [0, 1, 2].map(() => new BillingRepository(database.db, opts, clock));
  });
  afterAll(async () => {
    await database?.pool.end();
    await testDb?.drop();
  });

  const lines = async (volumeId: string) =>
    (
      await database.pool.query<{ kind: string; amount: string }>(
        "SELECT kind, amount::text FROM billing.ledger WHERE volume_id = $1 ORDER BY id",
        [volumeId],
      )
    ).rows;

  it("accrues a month once across three replicas' ticks, settles the end, and ignores a duplicate", async () => {
    const [repo, ...others] = replicas as [BillingRepository, ...BillingRepository[]];
    const volumeId = randomUUID();
    const created = event(volumeId, "creating", start);
    await repo.recordVolumeEvents([created, event(volumeId, "available", start + 2_000)]);

    // The available event extends the period to itself; one of the replicas' ticks bills the rest.
    now = start + 730 * HOUR;
    await Promise.all(replicas.map((r) => r.tick(60_000)));
    expect(await lines(volumeId)).toEqual([
      { kind: "accrual", amount: "0.000006000" },
      { kind: "accrual", amount: "7.999994000" },
    ]);
    const usage = await repo.volumeUsage(volumeId, "t1");
    expect(usage).toMatchObject({
      amount: "8.000000",
      billable_seconds: 730 * 3600,
      size_gb: 100,
      rate: "0.080000",
    });

    // Half a month later the volume starts deleting: the half since the tick is settled at once.
    now += 365 * HOUR;
    const deleting = event(volumeId, "deleting", now);
    await repo.recordVolumeEvents([deleting, created]);
    await others[0]?.recordVolumeEvents([deleting]);
    expect((await lines(volumeId)).slice(2)).toEqual([{ kind: "settlement", amount: "4.000000000" }]);

    // Nothing more: not the ticks, not the deleted event, not a read a month on.
    now += 730 * HOUR;
    await repo.recordVolumeEvents([event(volumeId, "deleted", now - 729 * HOUR)]);
    await Promise.all(replicas.map((r) => r.tick(60_000, true)));
    expect(await lines(volumeId)).toHaveLength(3);
    expect(await repo.volumeUsage(usage.volume_id, null)).toMatchObject({
      amount: "12.000000",
      billed_from: new Date(start).toISOString(),
      billed_until: deleting.occurred_at,
    });
  });

  it("answers a volume only in its tenant's scope, and sums volumes apart in the summary", async () => {
    const repo = replicas[0] as BillingRepository;
    const volumeId = randomUUID();
    await repo.recordVolumeEvents([event(volumeId, "in-use", now - HOUR, "t2")]);
    expect((await repo.volumeUsage(volumeId, "t2")).amount).toBe("0.010959");
    await expect(repo.volumeUsage(volumeId, "t1")).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(repo.volumeUsage("vol-0123456789abcdef0", null)).rejects.toMatchObject({
      code: "NOT_FOUND",
    });

    await repo.tick(60_000, true);
    const summary = await repo.summary({ tenantId: "t2", limit: 10 });
    expect(summary.volumes).toEqual({
      total: { amount: "0.010959", billable_seconds: 3600 },
      by_type: [{ volume_type: "gp3", amount: "0.010959", billable_seconds: 3600 }],
    });
    expect(summary.total.amount).toBe("0.000000");
  });
});
