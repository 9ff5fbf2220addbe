import {
  type BillingEvent,
  type BillingSummary,
  billingEventSubject,
  type Db,
  type InstanceTypeName,
  type LedgerLine,
  outboxRow,
  processOnce,
  type Region,
  type ServerState,
  type ServerStateChanged,
  uuidv7,
} from "@cloudsim/shared";
import { type SQL, sql } from "drizzle-orm";
import { billOf, type Transition } from "../domain/bill.ts";
import { amountFor, formatMoney, moneyFromDb, moneyToDb, secondsOf } from "../domain/money.ts";
import { outbox } from "./schema.ts";

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
   * Records one server event, once per event id, and brings the server's ledger to what its
   * transitions say it owes. Under the server row's lock it recomputes the whole bill from the
   * sorted transitions up to max(accrued_until, latest transition) and appends one line for the
   * difference from what the ledger holds, so any order of events converges to the same total.
   */
  async recordEvent(event: ServerStateChanged): Promise<EventOutcome> {
    let outcome: EventOutcome = { billedMs: 0n, amount: 0n };
    const typeRate = this.opts.rates[event.server.type];
    await processOnce(this.db, "billing", event.id, async (tx) => {
      await tx.execute(sql`
        INSERT INTO billing.servers (server_id, tenant_id, type, region, rate)
        VALUES (${event.server_id}, ${event.tenant_id}, ${event.server.type}, ${event.server.region}, ${moneyToDb(typeRate)})
        ON CONFLICT DO NOTHING`);
      const [row] = (
        await tx.execute<ServerRow>(sql`
          SELECT rate::text, amount::text, billed_ms::text,
                 (extract(epoch FROM open_since) * 1000)::bigint::text AS open_since_ms,
                 (extract(epoch FROM accrued_until) * 1000)::bigint::text AS accrued_until_ms
          FROM billing.servers WHERE server_id = ${event.server_id} FOR UPDATE`)
      ).rows;
      if (!row) throw new Error(`billing row of ${event.server_id} vanished`);
      const inserted = await tx.execute(sql`
        INSERT INTO billing.transitions (event_id, server_id, at, to_state, rate)
        VALUES (${event.id}, ${event.server_id}, ${event.occurred_at}, ${event.to_state}, ${moneyToDb(typeRate)})
        ON CONFLICT DO NOTHING`);
      if (inserted.rowCount === 0) return;
      const transitions = (
        await tx.execute<{ event_id: string; at_ms: string; to_state: ServerState; rate: string }>(sql`
          SELECT event_id, (extract(epoch FROM at) * 1000)::bigint::text AS at_ms, to_state, rate::text
          FROM billing.transitions WHERE server_id = ${event.server_id}`)
      ).rows.map(
        (t): Transition => ({
          eventId: t.event_id,
          at: Number(t.at_ms),
          toState: t.to_state,
          rate: moneyFromDb(t.rate),
        }),
      );
      const latest = Math.max(...transitions.map((t) => t.at));
      const horizon = Math.max(Number(row.accrued_until_ms ?? latest), latest);
      const bill = billOf(transitions, horizon, this.opts.minimumMs);
      const amount = bill.amount - moneyFromDb(row.amount);
      const billedMs = bill.billedMs - BigInt(row.billed_ms);
      const closed = bill.intervals.find((i) => i.closedBy === event.id);
      const opened = bill.intervals.find((i) => i.openedBy === event.id);
      const eventAt = Date.parse(event.occurred_at);
      if (amount !== 0n || billedMs !== 0n) {
        const kind = closed ? "settlement" : amount < 0n || eventAt < latest ? "correction" : "accrual";
        await tx.execute(sql`
          INSERT INTO billing.ledger (server_id, at, kind, billed_ms, amount, rate, event_id)
          VALUES (${event.server_id}, ${new Date(horizon).toISOString()}, ${kind}, ${billedMs},
                  ${moneyToDb(amount)}, ${moneyToDb(closed?.rate ?? bill.open?.rate ?? typeRate)}, ${event.id})`);
      }
      await tx.execute(sql`
        UPDATE billing.servers SET
          type = ${event.server.type}, region = ${event.server.region},
          rate = ${moneyToDb(bill.open?.rate ?? typeRate)},
          open_since = ${bill.open ? new Date(bill.open.from).toISOString() : null},
          accrued_until = ${new Date(horizon).toISOString()},
          billed_ms = ${bill.billedMs}, amount = ${moneyToDb(bill.amount)}, updated_at = now()
        WHERE server_id = ${event.server_id}`);
      const announcements: BillingEvent[] = [];
      const base = { server_id: event.server_id, request_id: event.request_id, currency: this.opts.currency };
      if (opened)
        announcements.push({
          ...base,
          id: uuidv7(),
          type: "billing.started",
          occurred_at: new Date(opened.from).toISOString(),
          rate: formatMoney(opened.rate),
        });
      if (closed)
        announcements.push({
          ...base,
          id: uuidv7(),
          type: "billing.stopped",
          occurred_at: new Date(closed.to).toISOString(),
          rate: formatMoney(closed.rate),
          amount: formatMoney(closed.amount),
          billable_seconds: secondsOf(closed.billedMs),
        });
      if (announcements.length > 0)
        await tx.insert(outbox).values(
          announcements.map((payload) =>
            outboxRow({
              subject: billingEventSubject(payload.type === "billing.started" ? "started" : "stopped"),
              orderingKey: event.server_id,
              payload,
              requestId: event.request_id,
            }),
          ),
        );
      outcome = { billedMs, amount };
    });
    return outcome;
  }

  /**
   * The billing tick: one statement accrues every open interval from accrued_until to now and
   * appends one ledger line each. Rows another replica (or an event) holds are skipped, so N
   * replicas never charge one period twice; what is skipped is caught up by the next tick.
   */
  async tick(): Promise<TickResult> {
    const result = await this.db.execute<{
      accrued: number;
      billed_ms: string;
      amount: string;
      open: number;
    }>(sql`
      WITH now_ AS (SELECT ${nowMs} AS t),
      claimed AS (
        SELECT s.server_id, s.rate, s.open_since, s.accrued_until FROM billing.servers s
        WHERE s.open_since IS NOT NULL AND s.accrued_until < (SELECT t FROM now_)
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

  async ledger(serverId: string) {
    const rows = await this.db.execute<{
      id: string;
      at_ms: string;
      kind: LedgerLine["kind"];
      billed_ms: string;
      amount: string;
      rate: string | null;
      event_id: string | null;
    }>(sql`
      SELECT id::text, (extract(epoch FROM at) * 1000)::bigint::text AS at_ms, kind, billed_ms::text, amount::text, rate::text, event_id
      FROM billing.ledger WHERE server_id = ${serverId} ORDER BY id`);
    let amount = 0n;
    let billedMs = 0n;
    const items = rows.rows.map((r): LedgerLine => {
      amount += moneyFromDb(r.amount);
      billedMs += BigInt(r.billed_ms);
      return {
        id: r.id,
        at: new Date(Number(r.at_ms)).toISOString(),
        kind: r.kind,
        billable_seconds: secondsOf(BigInt(r.billed_ms)),
        amount: formatMoney(moneyFromDb(r.amount)),
        rate: r.rate === null ? null : formatMoney(moneyFromDb(r.rate)),
        event_id: r.event_id,
      };
    });
    return {
      server_id: serverId,
      currency: this.opts.currency,
      billable_seconds: secondsOf(billedMs),
      amount: formatMoney(amount),
      items,
    };
  }

  /** Ledger totals per server, type, region and overall, of the lines whose usage time is in [from, to). */
  async summary(from?: string, to?: string, tenantId: string | null = null): Promise<BillingSummary> {
    const rows = await this.db.execute<{
      server_id: string;
      type: InstanceTypeName;
      region: Region;
      amount: string;
      billed_ms: string;
    }>(sql`
      SELECT l.server_id, s.type, s.region, sum(l.amount)::text AS amount, sum(l.billed_ms)::text AS billed_ms
      FROM billing.ledger l JOIN billing.servers s ON s.server_id = l.server_id
      WHERE true ${from ? sql`AND l.at >= ${from}` : sql``} ${to ? sql`AND l.at < ${to}` : sql``}
        ${tenantId === null ? sql`` : sql`AND s.tenant_id = ${tenantId}`}
      GROUP BY l.server_id, s.type, s.region ORDER BY l.server_id`);
    const byType = new Map<InstanceTypeName, { amount: bigint; ms: bigint }>();
    const byRegion = new Map<Region, { amount: bigint; ms: bigint }>();
    const total = { amount: 0n, ms: 0n };
    const add = <K>(map: Map<K, { amount: bigint; ms: bigint }>, key: K, amount: bigint, ms: bigint) => {
      const entry = map.get(key) ?? { amount: 0n, ms: 0n };
      entry.amount += amount;
      entry.ms += ms;
      map.set(key, entry);
    };
    const show = (t: { amount: bigint; ms: bigint }) => ({
      amount: formatMoney(t.amount),
      billable_seconds: secondsOf(t.ms),
    });
    const byServer = rows.rows.map((r) => {
      const amount = moneyFromDb(r.amount);
      const ms = BigInt(r.billed_ms);
      add(byType, r.type, amount, ms);
      add(byRegion, r.region, amount, ms);
      total.amount += amount;
      total.ms += ms;
      return { server_id: r.server_id, type: r.type, region: r.region, ...show({ amount, ms }) };
    });
    return {
      from: from ?? null,
      to: to ?? null,
      currency: this.opts.currency,
      total: show(total),
      by_server: byServer,
      by_type: [...byType].sort(([a], [b]) => a.localeCompare(b)).map(([type, t]) => ({ type, ...show(t) })),
      by_region: [...byRegion]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([region, t]) => ({ region, ...show(t) })),
    };
  }
}
