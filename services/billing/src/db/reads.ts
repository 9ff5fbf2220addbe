import type { Clock, Db, InstanceTypeName, LedgerLine, Region } from "@cloudsim/shared";
import { sql } from "drizzle-orm";
import { formatMoney, moneyFromDb, secondsOf } from "../domain/money.ts";
import { usageAt } from "../domain/usage.ts";
import { volumeTotals } from "./volume-reads.ts";

interface ServerRow extends Record<string, unknown> {
  rate: string;
  open_since_ms: string | null;
  accrued_until_ms: string | null;
  billed_ms: string;
  amount: string;
}

/** The server's total at the clock's now: the ledger plus the open interval since accrued_until. */
export async function usage(db: Db, clock: Clock, currency: string, serverId: string) {
  const now = clock.now();
  const rows = await db.execute<ServerRow>(sql`
    SELECT s.rate::text, s.amount::text, s.billed_ms::text,
           (extract(epoch FROM s.open_since) * 1000)::bigint::text AS open_since_ms,
           (extract(epoch FROM s.accrued_until) * 1000)::bigint::text AS accrued_until_ms
    FROM billing.servers s WHERE s.server_id = ${serverId}`);
  const row = rows.rows[0];
  if (!row?.rate)
    return {
      rate: null,
      billable_seconds: 0,
      amount: formatMoney(0n),
      currency,
      as_of: new Date(now).toISOString(),
    };
  const rate = moneyFromDb(row.rate);
  const { amount, billedMs } = usageAt(
    {
      rate,
      amount: moneyFromDb(row.amount),
      billedMs: BigInt(row.billed_ms),
      openSince: row.open_since_ms === null ? null : BigInt(row.open_since_ms),
      accruedUntil: row.accrued_until_ms === null ? null : BigInt(row.accrued_until_ms),
    },
    BigInt(now),
  );
  return {
    rate: formatMoney(rate),
    billable_seconds: secondsOf(billedMs),
    amount: formatMoney(amount),
    currency,
    as_of: new Date(now).toISOString(),
  };
}

/**
 * A page of the server's ledger: `limit + 1` lines after line `after` (the caller cuts the
 * page), with the totals of every line, read in one statement so they agree.
 */
export async function ledgerPage(db: Db, currency: string, serverId: string, limit: number, after?: string) {
  const rows = await db.execute<{
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
    currency,
    billable_seconds: secondsOf(BigInt(totals?.total_billed_ms ?? 0)),
    amount: formatMoney(moneyFromDb(totals?.total_amount ?? "0")),
    lines,
  };
}

/** Which lines and servers a summary covers: usage time in [from, to), one tenant's or all. */
export interface SummaryQuery {
  from?: string | undefined;
  to?: string | undefined;
  tenantId: string | null;
  limit: number;
  after?: string | undefined;
}

/**
 * Ledger totals of the lines whose usage time is in [from, to): per type, region and overall
 * over every server, and per server for `limit + 1` servers after `after` (the caller cuts the
 * page); apart, the volumes' per volume type and overall. All read in one snapshot, so a page and
 * the totals agree.
 */
export async function summary(db: Db, currency: string, query: SummaryQuery) {
  const { from, to, tenantId, limit, after } = query;
  const lines = sql`${from ? sql`AND l.at >= ${from}` : sql``} ${to ? sql`AND l.at < ${to}` : sql``}`;
  const tenant = tenantId === null ? sql`` : sql`AND s.tenant_id = ${tenantId}`;
  const { groups, servers, volumes } = await db.transaction(
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
      volumes: await volumeTotals(tx, lines, tenantId === null ? sql`` : sql`AND v.tenant_id = ${tenantId}`),
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
    currency,
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
    volumes,
  };
}
