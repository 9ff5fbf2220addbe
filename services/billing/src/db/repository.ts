import {
  type BillingEvent,
  billingEventSubject,
  type Db,
  type InstanceTypeName,
  type LedgerLine,
  type OutboxEvent,
  outboxInserter,
  processBatchOnce,
  type Region,
  rowInserter,
  type ServerState,
  type ServerStateChanged,
  uuidv7,
} from "@cloudsim/shared";
import { type SQL, sql } from "drizzle-orm";
import { billOf, type Transition } from "../domain/bill.ts";
import { amountFor, formatMoney, moneyFromDb, moneyToDb, secondsOf } from "../domain/money.ts";
import { ledger, outbox } from "./schema.ts";

/**
 * What `ms` milliseconds cost at `rate` per minute, in SQL: the same half-up rounding to
 * micro-units as amountFor in domain/money.ts, in exact NUMERIC arithmetic.
 */
export const amountSql = (rate: SQL, ms: SQL) =>
  sql`(div(2 * (${rate}) * 1000000000 * GREATEST(${ms}, 0) + 60000000, 120000000) * 1000 / 1000000000.0)::numeric(24, 9)`;

/** Milliseconds from `a` to `b`, as an exact number. */
const msBetween = (a: SQL, b: SQL) => sql`(extract(epoch FROM (${b} - ${a})) * 1000)`;

/** Postgres' clock, cut to the millisecond: the precision of the events' timestamps. */
const nowMs = sql`date_trunc('milliseconds', now())`;

const insertLedgerLines = rowInserter(ledger, [
  "serverId",
  "at",
  "kind",
  "billedMs",
  "amount",
  "rate",
  "eventId",
]);
const insertOutbox = outboxInserter(outbox);

export interface TickResult {
  accrued: number;
  billedMs: bigint;
  amount: bigint;
  open: number;
}

export interface EventOutcome {
  /** The change of the server's total this event caused (0 for a duplicate). */
  billedMs: bigint;
  amount: bigint;
}

/** A server's billing row while a batch is applied: as locked, then as each event left it. */
interface ServerInBatch {
  accruedUntil: number | null;
  amount: bigint;
  billedMs: bigint;
  /** Every transition recorded so far, the batch's own up to the event in hand. */
  transitions: Transition[];
  /** What its row is to be set to, once an event changed it. */
  update?: Record<string, unknown>;
}

interface ServerRow extends Record<string, unknown> {
  rate: string;
  open_since_ms: string | null;
  accrued_until_ms: string | null;
  billed_ms: string;
  amount: string;
}

/** billing's own tables, and nothing else. */
export class BillingRepository {
  constructor(
    private readonly db: Db,
    private readonly opts: {
      rates: Record<InstanceTypeName, bigint>;
      minimumMs: number;
      currency: string;
    },
  ) {}

  /**
   * Records a batch of server events, once per event id, and brings each server's ledger to
   * what its transitions say it owes. Under the server row's lock it recomputes the whole bill
   * from the sorted transitions up to max(accrued_until, latest transition) and appends one
   * line for the difference from what the ledger holds, so any order of events converges to
   * the same total. Returns what each event recorded changed (duplicates change nothing).
   *
   * The events are applied one by one, as if each had its own transaction, but the batch's
   * reads and writes travel together: the rows are locked and read at once, the transitions
   * inserted and read at once, and what each event changed is kept in memory for the next
   * event of its server and written at the end.
   */
  async recordEvents(events: readonly ServerStateChanged[]): Promise<EventOutcome[]> {
    const outcomes: EventOutcome[] = [];
    // Ids as Postgres prints them, so they match what it returns. A stable sort: a server's
    // events keep their stream order, and replicas lock rows in one (server) order.
    const sorted = events
      .map((e) => ({ ...e, id: e.id.toLowerCase(), server_id: e.server_id.toLowerCase() }))
      .sort((a, b) => (a.server_id < b.server_id ? -1 : a.server_id > b.server_id ? 1 : 0));
    await processBatchOnce(
      this.db,
      "billing",
      sorted.map((e) => e.id),
      async (tx, fresh) => {
        // Each fresh id once (delete says whether it was there): a redelivery within the batch is a duplicate.
        const todo = sorted.filter((e) => fresh.delete(e.id));
        const rateOf = (event: ServerStateChanged) => this.opts.rates[event.server.type];
        const servers = await this.lockServers(tx, todo, rateOf);
        const recorded = await this.recordTransitions(tx, todo, rateOf, servers);
        const lines: (typeof ledger.$inferInsert)[] = [];
        const announcements: OutboxEvent[] = [];
        for (const event of todo) {
          const transition = recorded.get(event.id);
          const server = servers.get(event.server_id);
          if (!server) throw new Error(`billing row of ${event.server_id} vanished`);
          if (!transition) continue;
          server.transitions.push(transition);
          const typeRate = rateOf(event);
          const latest = Math.max(...server.transitions.map((t) => t.at));
          const horizon = Math.max(server.accruedUntil ?? latest, latest);
          const bill = billOf(server.transitions, horizon, this.opts.minimumMs);
          const amount = bill.amount - server.amount;
          const billedMs = bill.billedMs - server.billedMs;
          const closed = bill.intervals.find((i) => i.closedBy === event.id);
          const opened = bill.intervals.find((i) => i.openedBy === event.id);
          const eventAt = Date.parse(event.occurred_at);
          if (amount !== 0n || billedMs !== 0n) {
            const kind = closed ? "settlement" : amount < 0n || eventAt < latest ? "correction" : "accrual";
            lines.push({
              serverId: event.server_id,
              at: new Date(horizon),
              kind,
              billedMs,
              amount: moneyToDb(amount),
              rate: moneyToDb(closed?.rate ?? bill.open?.rate ?? typeRate),
              eventId: event.id,
            });
          }
          server.accruedUntil = horizon;
          server.amount = bill.amount;
          server.billedMs = bill.billedMs;
          server.update = {
            server_id: event.server_id,
            type: event.server.type,
            region: event.server.region,
            rate: moneyToDb(bill.open?.rate ?? typeRate),
            open_since: bill.open ? new Date(bill.open.from) : null,
            accrued_until: new Date(horizon),
            billed_ms: String(bill.billedMs),
            amount: moneyToDb(bill.amount),
          };
          const base = {
            server_id: event.server_id,
            request_id: event.request_id,
            currency: this.opts.currency,
          };
          const announce = (payload: BillingEvent) =>
            announcements.push({
              subject: billingEventSubject(payload.type === "billing.started" ? "started" : "stopped"),
              orderingKey: event.server_id,
              payload,
              requestId: event.request_id,
            });
          if (opened)
            announce({
              ...base,
              id: uuidv7(),
              type: "billing.started",
              occurred_at: new Date(opened.from).toISOString(),
              rate: formatMoney(opened.rate),
            });
          if (closed)
            announce({
              ...base,
              id: uuidv7(),
              type: "billing.stopped",
              occurred_at: new Date(closed.to).toISOString(),
              rate: formatMoney(closed.rate),
              amount: formatMoney(closed.amount),
              billable_seconds: secondsOf(closed.billedMs),
            });
          outcomes.push({ billedMs, amount });
        }
        const updates = [...servers.values()].flatMap((s) => (s.update ? [s.update] : []));
        // The batch's ledger lines, totals and announcements: one statement.
        await tx.execute(sql`
          WITH lines AS (${insertLedgerLines(lines)}), announced AS (${insertOutbox(announcements)})
          UPDATE billing.servers AS s SET
            type = u.type, region = u.region, rate = u.rate, open_since = u.open_since,
            accrued_until = u.accrued_until, billed_ms = u.billed_ms, amount = u.amount, updated_at = now()
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
  private async lockServers(
    tx: Db,
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
      INSERT INTO billing.servers AS s (server_id, tenant_id, type, region, rate)
      SELECT * FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
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
  private async recordTransitions(
    tx: Db,
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
        INSERT INTO billing.transitions (event_id, server_id, at, to_state, rate)
        SELECT * FROM input ON CONFLICT DO NOTHING
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

  /**
   * The billing tick: one statement accrues every open interval from accrued_until to now and
   * appends one ledger line each, once per `intervalMs` across replicas: it first claims the
   * interval now falls in (billing.ticks), and a replica that finds it claimed, or being claimed,
   * accrues nothing. The claim is part of the statement, so a tick that fails or dies leaves the
   * interval to another replica or the next one. Rows an event holds are skipped and caught up
   * by the next tick.
   */
  async tick(intervalMs: number): Promise<TickResult> {
    const result = await this.db.execute<{
      accrued: number;
      billed_ms: string;
      amount: string;
      open: number;
    }>(sql`
      WITH now_ AS (
        SELECT t, date_bin(${intervalMs} * interval '1 millisecond', t, timestamptz 'epoch') AS interval_start
        FROM (SELECT ${nowMs} AS t) n
      ),
      -- SKIP LOCKED: a replica does not wait for another's tick, it leaves the interval to it.
      free AS (
        SELECT k.id FROM billing.ticks k
        WHERE k.interval_start < (SELECT interval_start FROM now_)
        FOR UPDATE SKIP LOCKED
      ),
      tick AS (
        UPDATE billing.ticks k SET interval_start = (SELECT interval_start FROM now_)
        WHERE k.id IN (SELECT id FROM free)
        RETURNING k.id
      ),
      claimed AS (
        SELECT s.server_id, s.rate, s.open_since, s.accrued_until FROM billing.servers s
        WHERE EXISTS (SELECT FROM tick) AND s.open_since IS NOT NULL AND s.accrued_until < (SELECT t FROM now_)
        FOR UPDATE SKIP LOCKED
      ),
      moved AS (
        SELECT c.server_id, c.rate, n.t AS at,
               ${msBetween(sql`c.accrued_until`, sql`n.t`)}::bigint AS billed_ms,
               ${amountSql(sql`c.rate`, msBetween(sql`c.open_since`, sql`n.t`))}
                 - ${amountSql(sql`c.rate`, msBetween(sql`c.open_since`, sql`c.accrued_until`))} AS amount
        FROM claimed c CROSS JOIN now_ n
      ),
      updated AS (
        UPDATE billing.servers s
        SET accrued_until = m.at, billed_ms = s.billed_ms + m.billed_ms, amount = s.amount + m.amount, updated_at = now()
        FROM moved m WHERE s.server_id = m.server_id
        RETURNING m.server_id, m.at, m.billed_ms, m.amount, m.rate
      ),
      lines AS (
        INSERT INTO billing.ledger (server_id, at, kind, billed_ms, amount, rate)
        SELECT server_id, at, 'accrual', billed_ms, amount, rate FROM updated
        RETURNING billed_ms, amount
      )
      SELECT count(*)::int AS accrued, coalesce(sum(billed_ms), 0)::text AS billed_ms,
             coalesce(sum(amount), 0)::text AS amount,
             (SELECT count(*)::int FROM billing.servers WHERE open_since IS NOT NULL) AS open
      FROM lines`);
    const row = result.rows[0];
    return {
      accrued: row?.accrued ?? 0,
      billedMs: BigInt(row?.billed_ms ?? 0),
      amount: moneyFromDb(row?.amount ?? "0"),
      open: row?.open ?? 0,
    };
  }

  /** The server's total now: the ledger plus the open interval since accrued_until. */
  async usage(serverId: string) {
    const rows = await this.db.execute<ServerRow & { now_ms: string; known: boolean }>(sql`
      SELECT s.rate::text, s.amount::text, s.billed_ms::text,
             (extract(epoch FROM s.open_since) * 1000)::bigint::text AS open_since_ms,
             (extract(epoch FROM s.accrued_until) * 1000)::bigint::text AS accrued_until_ms,
             (extract(epoch FROM n.t) * 1000)::bigint::text AS now_ms
      FROM (SELECT ${nowMs} AS t) n LEFT JOIN billing.servers s ON s.server_id = ${serverId}`);
    const row = rows.rows[0];
    const now = Number(row?.now_ms ?? Date.now());
    if (!row?.rate)
      return {
        rate: null,
        billable_seconds: 0,
        amount: formatMoney(0n),
        currency: this.opts.currency,
        as_of: new Date(now).toISOString(),
      };
    const rate = moneyFromDb(row.rate);
    let amount = moneyFromDb(row.amount);
    let billedMs = BigInt(row.billed_ms);
    if (row.open_since_ms !== null && row.accrued_until_ms !== null) {
      const openSince = BigInt(row.open_since_ms);
      const accruedUntil = BigInt(row.accrued_until_ms);
      const until = BigInt(now) > accruedUntil ? BigInt(now) : accruedUntil;
      amount += amountFor(rate, until - openSince) - amountFor(rate, accruedUntil - openSince);
      billedMs += until - accruedUntil;
    }
    return {
      rate: formatMoney(rate),
      billable_seconds: secondsOf(billedMs),
      amount: formatMoney(amount),
      currency: this.opts.currency,
      as_of: new Date(now).toISOString(),
    };
  }

  /**
   * A page of the server's ledger: `limit + 1` lines after line `after` (the caller cuts the
   * page), with the totals of every line, read in one statement so they agree.
   */
  async ledger(serverId: string, limit: number, after?: string) {
    const rows = await this.db.execute<{
      total_amount: string;
      total_billed_ms: string;
      id: string | null;
      at_ms: string;
      kind: LedgerLine["kind"];
      billed_ms: string;
      amount: string;
      rate: string | null;
      event_id: string | null;
    }>(sql`
      WITH total AS (
        SELECT coalesce(sum(amount), 0)::text AS total_amount, coalesce(sum(billed_ms), 0)::text AS total_billed_ms
        FROM billing.ledger WHERE server_id = ${serverId}
      ), page AS (
        SELECT id, at, kind, billed_ms, amount, rate, event_id FROM billing.ledger
        WHERE server_id = ${serverId} ${after === undefined ? sql`` : sql`AND id > ${after}`}
        ORDER BY id LIMIT ${limit + 1}
      )
      SELECT t.total_amount, t.total_billed_ms, p.id::text, (extract(epoch FROM p.at) * 1000)::bigint::text AS at_ms,
             p.kind, p.billed_ms::text, p.amount::text, p.rate::text, p.event_id
      FROM total t LEFT JOIN page p ON true ORDER BY p.id`);
    const totals = rows.rows[0];
    const lines = rows.rows.flatMap((r): LedgerLine[] =>
      r.id === null
        ? []
        : [
            {
              id: r.id,
              at: new Date(Number(r.at_ms)).toISOString(),
              kind: r.kind,
              billable_seconds: secondsOf(BigInt(r.billed_ms)),
              amount: formatMoney(moneyFromDb(r.amount)),
              rate: r.rate === null ? null : formatMoney(moneyFromDb(r.rate)),
              event_id: r.event_id,
            },
          ],
    );
    return {
      server_id: serverId,
      currency: this.opts.currency,
      billable_seconds: secondsOf(BigInt(totals?.total_billed_ms ?? 0)),
      amount: formatMoney(moneyFromDb(totals?.total_amount ?? "0")),
      lines,
    };
  }

  /**
   * Ledger totals of the lines whose usage time is in [from, to): per type, region and overall
   * over every server, and per server for `limit + 1` servers after `after` (the caller cuts the
   * page). Both read in one snapshot, so a page and the totals agree.
   */
  async summary(query: {
    from?: string | undefined;
    to?: string | undefined;
    tenantId: string | null;
    limit: number;
    after?: string | undefined;
  }) {
    const { from, to, tenantId, limit, after } = query;
    const lines = sql`${from ? sql`AND l.at >= ${from}` : sql``} ${to ? sql`AND l.at < ${to}` : sql``}`;
    const tenant = tenantId === null ? sql`` : sql`AND s.tenant_id = ${tenantId}`;
    const { groups, servers } = await this.db.transaction(
      async (tx) => ({
        // GROUPING says which set a row sums: 1 a type's, 2 a region's, 3 every line's.
        groups: await tx.execute<{
          grouping: number;
          type: InstanceTypeName | null;
          region: Region | null;
          amount: string | null;
          billed_ms: string | null;
        }>(sql`
          SELECT GROUPING(s.type, s.region) AS grouping, s.type, s.region,
                 sum(l.amount)::text AS amount, sum(l.billed_ms)::text AS billed_ms
          FROM billing.ledger l JOIN billing.servers s ON s.server_id = l.server_id
          WHERE true ${lines} ${tenant}
          GROUP BY GROUPING SETS ((s.type), (s.region), ())`),
        // Walks the servers in id order and sums each one's lines through the ledger's index, so a
        // page costs its own servers' lines and not the whole ledger's.
        servers: await tx.execute<{
          server_id: string;
          type: InstanceTypeName;
          region: Region;
          amount: string;
          billed_ms: string;
        }>(sql`
          SELECT s.server_id, s.type, s.region, t.amount::text, t.billed_ms::text
          FROM billing.servers s CROSS JOIN LATERAL (
            SELECT sum(l.amount) AS amount, sum(l.billed_ms) AS billed_ms
            FROM billing.ledger l WHERE l.server_id = s.server_id ${lines}
          ) t
          WHERE t.amount IS NOT NULL ${tenant} ${after === undefined ? sql`` : sql`AND s.server_id > ${after}`}
          ORDER BY s.server_id LIMIT ${limit + 1}`),
      }),
      { isolationLevel: "repeatable read", accessMode: "read only" },
    );
    const show = (row: { amount: string | null; billed_ms: string | null }) => ({
      amount: formatMoney(moneyFromDb(row.amount ?? "0")),
      billable_seconds: secondsOf(BigInt(row.billed_ms ?? 0)),
    });
    const total = groups.rows.find((g) => g.grouping === 3);
    const sets = (grouping: number) => groups.rows.filter((g) => g.grouping === grouping);
    return {
      from: from ?? null,
      to: to ?? null,
      currency: this.opts.currency,
      total: show(total ?? { amount: null, billed_ms: null }),
      servers: servers.rows.map((r) => ({
        server_id: r.server_id,
        type: r.type,
        region: r.region,
        ...show(r),
      })),
      by_type: sets(1)
        .flatMap(({ type, ...t }) => (type === null ? [] : [{ type, ...show(t) }]))
        .sort((a, b) => a.type.localeCompare(b.type)),
      by_region: sets(2)
        .flatMap(({ region, ...t }) => (region === null ? [] : [{ region, ...show(t) }]))
        .sort((a, b) => a.region.localeCompare(b.region)),
    };
  }
}
