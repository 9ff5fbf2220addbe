import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import {
  type Clock,
  createDatabase,
  createLogger,
  createRegistry,
  type Database,
  defaultImages,
  migrateSchema,
  startPruner,
  uuidv7,
} from "@cloudsim/shared";
import { createTestDatabase, type TestDatabase } from "@cloudsim/shared/testing";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { toServer } from "../domain/server-view.ts";
import { launchWrite, reservationIdOf } from "../launch.ts";
import { TenantRepository } from "../tenants/db.ts";
import { completeDueTransitions } from "./due-transitions.ts";
import { abandonServer, insertServers } from "./insert-servers.ts";
import { InstanceRepository } from "./instances.ts";
import { lifecycleRetentions } from "./retention.ts";
import { performAction } from "./server-actions.ts";
import { getServer } from "./server-reads.ts";

const log = createLogger("test", "silent");
const folder = fileURLToPath(new URL("./migrations", import.meta.url));
const quota = { maxServers: 1000, maxVcpus: 1000 };
const delays = {
  PROVISION_DELAY: 300,
  START_DELAY: 1000,
  STOP_DELAY: 1000,
  REBOOT_DELAY: 1000,
  TERMINATE_DELAY: 1000,
};
const HOUR_MS = 3_600_000;

/**
 * A clock of the test's own, years ahead of the machine's and moved only by the test: every
 * time lifecycle stores or compares is its time (a read of the machine's, or of Postgres' now(),
 * would be years off).
 */
let now = Date.parse("2030-01-01T00:00:00.000Z");
const clock: Clock = { now: () => now };
const iso = (ms: number) => new Date(ms).toISOString();

describe("lifecycle on its clock", () => {
  let testDb: TestDatabase;
  let database: Database;
  const q = async <T extends Record<string, unknown>>(text: string, values: unknown[] = []) =>
    (await database.pool.query<T>(text, values)).rows;
  /** A column's times as ISO strings (ms), for comparing with the clock. */
  const times = async (text: string, values: unknown[]) =>
    (await q<{ at: Date }>(text, values)).map((r) => r.at.toISOString());

  beforeAll(async () => {
    testDb = await createTestDatabase(inject("postgresAdminUrl"));
    database = createDatabase(testDb.url, 3, log);
    await migrateSchema(database.pool, "lifecycle", folder);
  });
  afterAll(async () => {
    await database?.pool.end();
    await testDb?.drop();
  });

  let addresses = 0;
  const provision = async (key?: string) => {
    const id = uuidv7();
    const write = launchWrite(
      {
        id,
        tenantId: "default",
        spec: { region: "us-east-1", type: "t2.micro" },
        placed: { image: defaultImages[0] as (typeof defaultImages)[number], zone: "us-east-1a" },
        address: `10.0.0.${++addresses}`,
        reservationId: reservationIdOf(id),
        clientToken: key && `token-${key}`,
        simulateFailure: false,
        requestId: `req-${id}`,
      },
      { PROVISION_DELAY: delays.PROVISION_DELAY, PROVISION_FAILURE_RATE: 0 },
      key ? { key: `default:${key}`, requestHash: "h" } : undefined,
    );
    if (key) {
      write.clientToken = {
        tenantId: "default",
        region: "us-east-1",
        token: `token-${key}`,
        requestHash: "h",
        reservationId: reservationIdOf(id),
      };
    }
    const [row] = await insertServers(database.db, [write], quota, clock);
    if (!row) throw new Error("no row");
    return row;
  };

  it("stores a server, its log, event, key and token at the clock's time, due PROVISION_DELAY after it", async () => {
    const created = now;
    const row = await provision("k1");
    expect(row).toMatchObject({ createdAt: iso(created), updatedAt: iso(created), runningSince: null });
    expect(await times("SELECT due_at AS at FROM lifecycle.servers WHERE id = $1", [row.id])).toEqual([
      iso(created + delays.PROVISION_DELAY),
    ]);
    expect(await times("SELECT at FROM lifecycle.server_events WHERE server_id = $1", [row.id])).toEqual([
      iso(created),
      iso(created),
    ]);
    const [event] = await q<{ occurred_at: string }>(
      "SELECT payload->>'occurred_at' AS occurred_at FROM lifecycle.outbox WHERE ordering_key = $1",
      [row.id],
    );
    expect(event?.occurred_at).toBe(iso(created));
    expect(
      await times("SELECT created_at AS at FROM lifecycle.idempotency_keys WHERE key = 'default:k1'", []),
    ).toEqual([iso(created)]);
    expect(
      await times("SELECT created_at AS at FROM lifecycle.client_tokens WHERE token = 'token-k1'", []),
    ).toEqual([iso(created)]);
  });

  it("completes a timed state when the clock, not the machine, reaches its due time", async () => {
    const row = await provision();
    // Not due on the clock yet (and never on the machine's: it is years before).
    now += delays.PROVISION_DELAY - 1;
    expect(await completeDueTransitions(database.db, 100, clock)).toBe(0);
    now += 1;
    expect(await completeDueTransitions(database.db, 100, clock)).toBeGreaterThanOrEqual(1);
    const running = await getServer(database.db, row.id, null);
    expect(running).toMatchObject({ state: "running", updatedAt: iso(now), runningSince: iso(now) });
    const [entry] = await times(
      "SELECT at FROM lifecycle.server_events WHERE server_id = $1 AND to_state = 'running'",
      [row.id],
    );
    expect(entry).toBe(iso(now));
    const [event] = await q<{ occurred_at: string }>(
      `SELECT payload->>'occurred_at' AS occurred_at FROM lifecycle.outbox
       WHERE ordering_key = $1 AND payload->>'to_state' = 'running'`,
      [row.id],
    );
    expect(new Date(event?.occurred_at ?? "").toISOString()).toBe(iso(now));
    // A day later on the clock: its uptime is the clock's day.
    now += 24 * HOUR_MS;
    expect(toServer(running as NonNullable<typeof running>, clock.now()).uptime_seconds).toBe(86_400);
  });

  it("stamps an action, its due time and its log entry, and an EC2 retag and type change, with the clock", async () => {
    const row = await provision();
    now += delays.PROVISION_DELAY;
    await completeDueTransitions(database.db, 100, clock);
    now += HOUR_MS;
    const stopping = await performAction(database.db, row.id, "stop", {
      tenantId: null,
      quota,
      actor: "user",
      requestId: "req-stop",
      delays,
      failPending: false,
      clock,
    });
    expect(stopping).toMatchObject({ state: "stopping", updatedAt: iso(now) });
    expect(await times("SELECT due_at AS at FROM lifecycle.servers WHERE id = $1", [row.id])).toEqual([
      iso(now + delays.STOP_DELAY),
    ]);
    expect(
      await times("SELECT at FROM lifecycle.server_events WHERE server_id = $1 AND to_state = 'stopping'", [
        row.id,
      ]),
    ).toEqual([iso(now)]);
    const [event] = await q<{ occurred_at: string }>(
      `SELECT payload->>'occurred_at' AS occurred_at FROM lifecycle.outbox
       WHERE ordering_key = $1 AND payload->>'to_state' = 'stopping'`,
      [row.id],
    );
    expect(new Date(event?.occurred_at ?? "").toISOString()).toBe(iso(now));
    now += delays.STOP_DELAY;
    await completeDueTransitions(database.db, 100, clock);

    // A clock read before the row's last change (its statement waited for a connection meanwhile)
    // does not move the row's time back: the change is at the row's last change.
    const stoppedAt = now;
    const late: Clock = { now: () => stoppedAt - 5000 };
    const starting = await performAction(database.db, row.id, "start", {
      tenantId: null,
      quota,
      actor: "user",
      requestId: "req-start",
      delays,
      failPending: false,
      clock: late,
    });
    expect(starting).toMatchObject({ state: "starting", updatedAt: iso(stoppedAt) });
    expect(await times("SELECT due_at AS at FROM lifecycle.servers WHERE id = $1", [row.id])).toEqual([
      iso(stoppedAt + delays.START_DELAY),
    ]);
    expect(
      await times("SELECT at FROM lifecycle.server_events WHERE server_id = $1 AND to_state = 'starting'", [
        row.id,
      ]),
    ).toEqual([iso(stoppedAt)]);
    now += delays.START_DELAY;
    await completeDueTransitions(database.db, 100, clock);
    await performAction(database.db, row.id, "stop", {
      tenantId: null,
      quota,
      actor: "user",
      requestId: "req-stop-again",
      delays,
      failPending: false,
      clock,
    });
    now += delays.STOP_DELAY;
    await completeDueTransitions(database.db, 100, clock);

    const instances = new InstanceRepository(database.db, clock);
    now += 60_000;
    expect(await instances.retag([row.id], { team: "a" }, [], 50)).toBe(1);
    expect((await getServer(database.db, row.id, null))?.updatedAt).toBe(iso(now));
    now += 60_000;
    await instances.changeType(row.id, "t3.micro", 2, "req-type");
    expect((await getServer(database.db, row.id, null))?.updatedAt).toBe(iso(now));
    expect(
      await times("SELECT at FROM lifecycle.server_events WHERE server_id = $1 AND type = 'type.changed'", [
        row.id,
      ]),
    ).toEqual([iso(now)]);
  });

  it("gives tenants, keys, revocations and abandoned servers the clock's time", async () => {
    const tenants = new TenantRepository(database.db, quota, clock);
    now += 60_000;
    const tenant = await tenants.create("on-the-clock");
    expect(tenant.created_at).toBe(iso(now));
    now += 60_000;
    const key = await tenants.createKey(tenant.id, `hash-${randomUUID()}`, undefined);
    expect(key.created_at).toBe(iso(now));
    now += 60_000;
    await tenants.revokeKey(key.id);
    expect(await times("SELECT revoked_at AS at FROM lifecycle.api_keys WHERE id = $1", [key.id])).toEqual([
      iso(now),
    ]);
    const gone = randomUUID();
    expect(await abandonServer(database.db, gone, clock)).toBe("abandoned");
    const abandonedAt = now;
    now += 60_000;
    // Asked again: still abandoned, and the tombstone keeps its first time.
    expect(await abandonServer(database.db, gone, clock)).toBe("abandoned");
    expect(
      await times("SELECT abandoned_at AS at FROM lifecycle.abandoned_servers WHERE id = $1", [gone]),
    ).toEqual([iso(abandonedAt)]);
  });

  it("prunes Idempotency-Keys once the clock is past their retention", async () => {
    await provision("k-prune");
    const has = async () =>
      (await q("SELECT 1 FROM lifecycle.idempotency_keys WHERE key = 'default:k-prune'")).length > 0;
    const pruner = startPruner(database.pool, lifecycleRetentions(24 * HOUR_MS, clock), {
      intervalMs: 20,
      batch: 100,
      registry: createRegistry("test"),
      log,
    });
    try {
      // Kept while the clock is within the retention: a few rounds of the pruner change nothing.
      now += 24 * HOUR_MS - 1000;
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(await has()).toBe(true);
      now += 2000;
      for (let i = 0; i < 100 && (await has()); i++) await new Promise((r) => setTimeout(r, 50));
      expect(await has()).toBe(false);
    } finally {
      await pruner.stop();
    }
  });
});
