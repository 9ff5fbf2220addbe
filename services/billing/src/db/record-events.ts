import {
  billingEventSubject,
  type Clock,
  clockDate,
  type Db,
  type InstanceTypeName,
  type OutboxEvent,
  outboxInserter,
  processBatchOnce,
  rowInserter,
  type ServerState,
  type ServerStateChanged,
  timeSql,
} from "@cloudsim/shared";
import { sql } from "drizzle-orm";
import { announcementsOf } from "../domain/announcements.ts";
import { applyEvent, type LedgerChange, type ServerBilling } from "../domain/apply-event.ts";
import type { Transition } from "../domain/bill.ts";
import { moneyFromDb, moneyToDb } from "../domain/money.ts";
import { ledger, outbox } from "./schema.ts";

export interface BillingOptions {
  rates: Record<InstanceTypeName, bigint>;
  /** Price of one GB-month of a volume, nano-units. */
  volumeRate: bigint;
  minimumMs: number;
  currency: string;
}

/** A server's row while a batch is applied, with every transition recorded so far. */
interface ServerInBatch extends ServerBilling {
  /** The batch's own transitions up to the event in hand included. */
  transitions: Transition[];
  /** What its row is to be set to, once an event changed it. */
  update?: Record<string, unknown>;
}

const insertLedgerLines = rowInserter(ledger, [
  "serverId",
  "at",
  "kind",
  "billedMs",
  "amount",
  "rate",
  "eventId",
  "recordedAt",
]);
const insertOutbox = outboxInserter(outbox);

/**
 * Records a batch of server events once per event id and bills what each changes (applyEvent)
 * under its server row's lock; returns each event's change (duplicates change nothing). Events
 * apply one by one, but the batch's reads and writes go as one statement each. Rows are stamped
 * with one reading of the clock per batch, as Postgres stamped them with the transaction's start.
 */
export async function recordEvents(
  db: Db,
  clock: Clock,
  opts: BillingOptions,
  events: readonly ServerStateChanged[],
): Promise<LedgerChange[]> {
  const outcomes: LedgerChange[] = [];
  // Ids as Postgres prints them, so they match what it returns. A stable sort: a server's
  // events keep their stream order, and replicas lock rows in one (server) order.
  const sorted = events
    .map((e) => ({ ...e, id: e.id.toLowerCase(), server_id: e.server_id.toLowerCase() }))
    .sort((a, b) => (a.server_id < b.server_id ? -1 : a.server_id > b.server_id ? 1 : 0));
  await processBatchOnce(
    db,
    "billing",
    sorted.map((e) => e.id),
    async (tx, fresh) => {
      // Each fresh id once (delete says whether it was there): a redelivery within the batch is a duplicate.
      const todo = sorted.filter((e) => fresh.delete(e.id));
      const now = clockDate(clock);
      const rateOf = (event: ServerStateChanged) => opts.rates[event.server.type];
      const servers = await lockServers(tx, now, todo, rateOf);
      const recorded = await recordTransitions(tx, now, todo, rateOf, servers);
      const lines: (typeof ledger.$inferInsert)[] = [];
      const announcements: OutboxEvent[] = [];
      for (const event of todo) {
        const transition = recorded.get(event.id);
        const server = servers.get(event.server_id);
        if (!server) throw new Error(`billing row of ${event.server_id} vanished`);
        if (!transition) continue;
        server.transitions.push(transition);
        const applied = applyEvent(
          server,
          server.transitions,
          { id: event.id, occurredAt: Date.parse(event.occurred_at) },
          { typeRate: rateOf(event), minimumMs: opts.minimumMs },
        );
        const { line, server: after } = applied;
        if (line)
          lines.push({
            serverId: event.server_id,
            at: new Date(line.at),
            kind: line.kind,
            billedMs: line.billedMs,
            amount: moneyToDb(line.amount),
            rate: moneyToDb(line.rate),
            eventId: event.id,
            recordedAt: now,
          });
        server.accruedUntil = after.accruedUntil;
        server.amount = after.amount;
        server.billedMs = after.billedMs;
        server.update = {
          server_id: event.server_id,
          type: event.server.type,
          region: event.server.region,
          rate: moneyToDb(after.rate),
          open_since: after.openSince === null ? null : new Date(after.openSince),
          accrued_until: new Date(after.accruedUntil),
          billed_ms: String(after.billedMs),
          amount: moneyToDb(after.amount),
        };
        for (const payload of announcementsOf(event, applied, opts.currency))
          announcements.push({
            subject: billingEventSubject(payload.type === "billing.started" ? "started" : "stopped"),
            orderingKey: event.server_id,
            payload,
            requestId: event.request_id,
          });
        outcomes.push(applied.change);
      }
      const updates = [...servers.values()].flatMap((s) => (s.update ? [s.update] : []));
      // The batch's ledger lines, totals and announcements: one statement.
      await tx.execute(sql`
        WITH lines AS (${insertLedgerLines(lines)}), announced AS (${insertOutbox(announcements)})
        UPDATE billing.servers AS s SET
          type = u.type, region = u.region, rate = u.rate, open_since = u.open_since,
          accrued_until = u.accrued_until, billed_ms = u.billed_ms, amount = u.amount, updated_at = ${timeSql(now)}
        FROM jsonb_to_recordset(${JSON.stringify(updates)}::jsonb) AS u(server_id uuid, type text,
          region text, rate numeric, open_since timestamptz, accrued_until timestamptz, billed_ms bigint, amount numeric)
        WHERE s.server_id = u.server_id`);
    },
  );
  return outcomes;
}

/**
 * Creates the billing rows of servers seen for the first time and locks every row of the
 * batch, in server order, returning what each holds: one statement (the no-op update is what
 * locks and returns a row that exists, as SELECT ... FOR UPDATE would).
 */
async function lockServers(
  tx: Db,
  now: Date,
  events: readonly ServerStateChanged[],
  rateOf: (event: ServerStateChanged) => bigint,
): Promise<Map<string, ServerInBatch>> {
  const firstOfServer = new Map<string, ServerStateChanged>();
  for (const e of events) if (!firstOfServer.has(e.server_id)) firstOfServer.set(e.server_id, e);
  const rows = [...firstOfServer.values()].map((e) => ({
    server_id: e.server_id,
    tenant_id: e.tenant_id,
    type: e.server.type,
    region: e.server.region,
    rate: moneyToDb(rateOf(e)),
  }));
  const locked = await tx.execute<{
    server_id: string;
    amount: string;
    billed_ms: string;
    accrued_until_ms: string | null;
  }>(sql`
    INSERT INTO billing.servers AS s (server_id, tenant_id, type, region, rate, updated_at)
    SELECT t.*, ${timeSql(now)} FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
      AS t(server_id uuid, tenant_id text, type text, region text, rate numeric)
    ORDER BY server_id
    ON CONFLICT (server_id) DO UPDATE SET server_id = s.server_id
    RETURNING s.server_id, s.amount::text, s.billed_ms::text,
      (extract(epoch FROM s.accrued_until) * 1000)::bigint::text AS accrued_until_ms`);
  return new Map(
    locked.rows.map((row) => [
      row.server_id,
      {
        accruedUntil: row.accrued_until_ms === null ? null : Number(row.accrued_until_ms),
        amount: moneyFromDb(row.amount),
        billedMs: BigInt(row.billed_ms),
        transitions: [],
      },
    ]),
  );
}

/**
 * Inserts the events' transitions and reads every transition of their servers, in one
 * statement, while the rows are locked. Fills each server's transitions with those recorded
 * before the batch; returns the batch's own that were new, by event id.
 */
async function recordTransitions(
  tx: Db,
  now: Date,
  events: readonly ServerStateChanged[],
  rateOf: (event: ServerStateChanged) => bigint,
  servers: Map<string, ServerInBatch>,
): Promise<Map<string, Transition>> {
  const rows = events.map((e) => ({
    event_id: e.id,
    server_id: e.server_id,
    at: e.occurred_at,
    to_state: e.to_state,
    rate: moneyToDb(rateOf(e)),
  }));
  const atMs = sql`(extract(epoch FROM at) * 1000)::bigint::text AS at_ms`;
  // The main query sees the table as it was before the insert in its WITH, so the two parts
  // are the transitions recorded before and those this batch added.
  const found = await tx.execute<{
    event_id: string;
    server_id: string;
    at_ms: string;
    to_state: ServerState;
    rate: string;
    added: boolean;
  }>(sql`
    WITH input AS (
      SELECT * FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
        AS t(event_id uuid, server_id uuid, at timestamptz, to_state text, rate numeric)
    ), added AS (
      INSERT INTO billing.transitions (event_id, server_id, at, to_state, rate, recorded_at)
      SELECT input.*, ${timeSql(now)} FROM input ON CONFLICT DO NOTHING
      RETURNING event_id, server_id, at, to_state, rate
    )
    SELECT event_id, server_id, ${atMs}, to_state, rate::text, true AS added FROM added
    UNION ALL
    SELECT event_id, server_id, ${atMs}, to_state, rate::text, false AS added FROM billing.transitions
    WHERE server_id IN (SELECT server_id FROM input)`);
  const added = new Map<string, Transition>();
  for (const t of found.rows) {
    const transition: Transition = {
      eventId: t.event_id,
      at: Number(t.at_ms),
      toState: t.to_state,
      rate: moneyFromDb(t.rate),
    };
    if (t.added) added.set(t.event_id, transition);
    else servers.get(t.server_id)?.transitions.push(transition);
  }
  return added;
}
