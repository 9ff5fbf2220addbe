import { AppError, type Clock, type Db, type VolumeBillingUsage, type VolumeType } from "@cloudsim/shared";
import { type SQL, sql } from "drizzle-orm";
import { formatMoney, moneyFromDb, secondsOf } from "../domain/money.ts";
import { volumeBillAt } from "../domain/volume-bill.ts";

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * A volume's total at the clock's now, by its UUID or EC2 id, in the tenant's scope (null: any
 * tenant's): the ledger's, plus the billed period from accrued_until to now while it lasts.
 */
export async function volumeUsage(
  db: Db,
  clock: Clock,
  currency: string,
  ref: { volumeId: string; tenantId: string | null },
): Promise<VolumeBillingUsage> {
  const now = clock.now();
  const byId = uuid.test(ref.volumeId) ? sql`v.volume_id = ${ref.volumeId}` : sql`v.ec2_id = ${ref.volumeId}`;
  const tenant = ref.tenantId === null ? sql`` : sql`AND v.tenant_id = ${ref.tenantId}`;
  const ms = (column: string) => sql`(extract(epoch FROM ${sql.raw(`v.${column}`)}) * 1000)::bigint::text`;
  const { rows } = await db.execute<{
    ec2_id: string;
    volume_type: VolumeType;
    size_gb: number;
    rate: string;
    open_since_ms: string | null;
    closed_at_ms: string | null;
    accrued_until_ms: string;
    billed_ms: string;
    amount: string;
  }>(sql`
    SELECT v.ec2_id, v.volume_type, v.size_gb, v.rate::text, ${ms("open_since")} AS open_since_ms,
           ${ms("closed_at")} AS closed_at_ms, ${ms("accrued_until")} AS accrued_until_ms,
           v.billed_ms::text, v.amount::text
    FROM billing.volumes v WHERE ${byId} ${tenant}`);
  const row = rows[0];
  if (!row)
    throw new AppError("NOT_FOUND", `volume ${ref.volumeId} has no bill`, { volume_id: ref.volumeId });
  const time = (text: string | null) => (text === null ? null : Number(text));
  const volume = {
    rate: moneyFromDb(row.rate),
    sizeGb: row.size_gb,
    openSince: time(row.open_since_ms),
    closedAt: time(row.closed_at_ms),
    accruedUntil: Number(row.accrued_until_ms),
  };
  const { amount, billedMs } = volumeBillAt(volume, Math.max(now, volume.accruedUntil));
  const iso = (at: number | null) => (at === null ? null : new Date(at).toISOString());
  return {
    volume_id: row.ec2_id,
    volume_type: row.volume_type,
    size_gb: row.size_gb,
    rate: formatMoney(volume.rate),
    billable_seconds: secondsOf(billedMs),
    amount: formatMoney(amount),
    currency,
    billed_from: iso(volume.openSince),
    billed_until: iso(volume.closedAt),
    as_of: new Date(now).toISOString(),
  };
}

/**
 * The summary's volume part: the ledger lines of volumes (`lines` filters `l`, `tenant` filters
 * `v`) summed per volume type and overall, in one statement.
 */
export async function volumeTotals(tx: Db, lines: SQL, tenant: SQL) {
  const { rows } = await tx.execute<{
    volume_type: VolumeType | null;
    amount: string | null;
    billed_ms: string | null;
  }>(sql`
    SELECT v.volume_type, sum(l.amount)::text AS amount, sum(l.billed_ms)::text AS billed_ms
    FROM billing.ledger l JOIN billing.volumes v ON v.volume_id = l.volume_id
    WHERE true ${lines} ${tenant}
    GROUP BY GROUPING SETS ((v.volume_type), ())`);
  const show = (row: { amount: string | null; billed_ms: string | null }) => ({
    amount: formatMoney(moneyFromDb(row.amount ?? "0")),
    billable_seconds: secondsOf(BigInt(row.billed_ms ?? 0)),
  });
  // volume_type is never null in a row: the row without one sums every line.
  const total = rows.find((r) => r.volume_type === null) ?? { amount: null, billed_ms: null };
  return {
    total: show(total),
    by_type: rows
      .flatMap(({ volume_type, ...t }) => (volume_type === null ? [] : [{ volume_type, ...show(t) }]))
      .sort((a, b) => a.volume_type.localeCompare(b.volume_type)),
  };
}
