import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import {
  type Clock,
  createDatabase,
  createLogger,
  type Database,
  migrateSchema,
  type ServerStateChanged,
} from "@cloudsim/shared";
import { createTestDatabase, type TestDatabase } from "@cloudsim/shared/testing";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { formatMoney, parseMoney } from "../domain/money.ts";
import { rateTable } from "../domain/rates.ts";
import { BillingRepository } from "./repository.ts";

const log = createLogger("test", "silent");
const folder = fileURLToPath(new URL("./migrations", import.meta.url));
const DAY = 86_400_000;

/** A clock of the test's own, far from the machine's: whatever billing stamps or bills to is read from it. */
let now = Date.parse("2030-01-01T00:00:00.000Z");
const clock: Clock = { now: () => now };
const iso = (ms: number) => new Date(ms).toISOString();

const running = (serverId: string, at: number): ServerStateChanged => ({
  id: randomUUID(),
  type: "server.state_changed",
  occurred_at: iso(at),
  server_id: serverId,
  request_id: null,
  tenant_id: "default",
  from_state: "provisioning",
  to_state: "running",
  actor: "system",
  server: { region: "us-east-1", type: "t2.micro", ip_address: "10.0.0.2", tags: {} },
});

describe("billing on its clock", () => {
  let testDb: TestDatabase;
  let database: Database;
  let repo: BillingRepository;
  beforeAll(async () => {
    testDb = await createTestDatabase(inject("postgresAdminUrl"));
    database = createDatabase(testDb.url, 2, log);
    await migrateSchema(database.pool, "billing", folder);
    repo = new BillingRepository(
      database.db,
      { rates: rateTable(parseMoney("0.01")), volumeRate: parseMoney("0.08"), minimumMs: 0, currency: "USD" },
      clock,
    );
  });
  afterAll(async () => {
    await database?.pool.end();
    await testDb?.drop();
  });

  const times = async (serverId: string) => {
    const { rows } = await database.pool.query<{ updated_at: Date; recorded: Date[]; ledger: Date[] }>(
      `SELECT s.updated_at,
              (SELECT array_agg(recorded_at) FROM billing.transitions WHERE server_id = $1) AS recorded,
              (SELECT array_agg(recorded_at ORDER BY id) FROM billing.ledger WHERE server_id = $1) AS ledger
       FROM billing.servers s WHERE s.server_id = $1`,
      [serverId],
    );
    return rows[0];
  };

  it("stamps rows, ticks and reads usage at the clock's time, across a jump of days", async () => {
    const serverId = randomUUID();
    const start = now;
    await repo.recordEvents([running(serverId, start)]);
    expect(await times(serverId)).toEqual({
      updated_at: new Date(start),
      recorded: [new Date(start)],
      ledger: null,
    });

    // 31 days in one step: one tick bills all of it, to the clock's time, in one line.
    now += 31 * DAY;
    const tick = await repo.tick(60_000);
    expect(tick).toMatchObject({ accrued: 1, billedMs: BigInt(31 * DAY), amount: parseMoney("446.40") });
    const ledger = await repo.ledger(serverId, 10);
    expect(ledger.lines).toMatchObject([
      { at: iso(now), kind: "accrual", amount: formatMoney(parseMoney("446.40")) },
    ]);
    expect(await times(serverId)).toEqual({
      updated_at: new Date(now),
      recorded: [new Date(start)],
      ledger: [new Date(now)],
    });
    // The interval is claimed: a second tick in it bills nothing.
    expect((await repo.tick(60_000)).accrued).toBe(0);

    // Usage runs on to the clock's now, past the last tick.
    now += 3_600_000;
    expect(await repo.usage(serverId)).toEqual({
      rate: formatMoney(parseMoney("0.01")),
      billable_seconds: 31 * 86_400 + 3600,
      amount: formatMoney(parseMoney("446.40") + parseMoney("0.60")),
      currency: "USD",
      as_of: iso(now),
    });
    expect((await repo.usage(randomUUID())).as_of).toBe(iso(now));
  });
});
