import {
  type Clock,
  clockDate,
  type Db,
  processBatchOnce,
  rowInserter,
  timeSql,
  type VolumeStateChanged,
} from "@cloudsim/shared";
import { sql } from "drizzle-orm";
import type { LedgerChange } from "../domain/apply-event.ts";
import { moneyFromDb, moneyToDb } from "../domain/money.ts";
import { applyVolumeEvent, type VolumeBilling } from "../domain/volume-bill.ts";
import { ledger } from "./schema.ts";

const insertLedgerLines = rowInserter(ledger, [
  "volumeId",
  "at",
  "kind",
  "billedMs",
  "amount",
  "rate",
  "eventId",
  "recordedAt",
]);

/**
 * Records a batch of volume events once per event id and bills what each changes
 * (applyVolumeEvent) under its volume row's lock; returns each fresh event's change. A volume
 * seen for the first time gets its row at `ratePerGbMonth` and the event's size.
 */
export async function recordVolumeEvents(
  db: Db,
  clock: Clock,
  ratePerGbMonth: bigint,
  events: readonly VolumeStateChanged[],
): Promise<LedgerChange[]> {
  const outcomes: LedgerChange[] = [];
  // Lower case, as Postgres prints uuids; a stable sort keeps a volume's events in stream order
  // and makes replicas lock rows in one order.
  const sorted = events
    .map((e) => ({ ...e, id: e.id.toLowerCase(), volume_id: e.volume_id.toLowerCase() }))
    .sort((a, b) => (a.volume_id < b.volume_id ? -1 : a.volume_id > b.volume_id ? 1 : 0));
  await processBatchOnce(
    db,
    "billing",
    sorted.map((e) => e.id),
    async (tx, fresh) => {
      const todo = sorted.filter((e) => fresh.delete(e.id));
      const now = clockDate(clock);
      const volumes = await lockVolumes(tx, now, todo, ratePerGbMonth);
      const lines: (typeof ledger.$inferInsert)[] = [];
      for (const event of todo) {
        const before = volumes.get(event.volume_id);
        if (!before) throw new Error(`billing row of volume ${event.volume_id} vanished`);
        const { volume, line } = applyVolumeEvent(before, {
          at: Date.parse(event.occurred_at),
          toState: event.to_state,
        });
        volumes.set(event.volume_id, volume);
        const change = line ?? { amount: 0n, billedMs: 0n };
        outcomes.push({ amount: change.amount, billedMs: change.billedMs });
        if (line)
          lines.push({
            volumeId: event.volume_id,
            at: new Date(line.at),
            kind: line.kind,
            billedMs: line.billedMs,
            amount: moneyToDb(line.amount),
            rate: moneyToDb(volume.rate),
            eventId: event.id,
            recordedAt: now,
          });
      }
      const updates = [...new Set(todo.map((e) => e.volume_id))].map((id) => {
        const v = volumes.get(id) as VolumeBilling;
        return {
          volume_id: id,
          open_since: v.openSince === null ? null : new Date(v.openSince),
          closed_at: v.closedAt === null ? null : new Date(v.closedAt),
          accrued_until: new Date(v.accruedUntil),
          billed_ms: String(v.billedMs),
          amount: moneyToDb(v.amount),
        };
      });
      await tx.execute(sql`
        WITH lines AS (${insertLedgerLines(lines)})
        UPDATE billing.volumes AS v SET
          open_since = u.open_since, closed_at = u.closed_at, accrued_until = u.accrued_until,
          billed_ms = u.billed_ms, amount = u.amount, updated_at = ${timeSql(now)}
        FROM jsonb_to_recordset(${JSON.stringify(updates)}::jsonb) AS u(volume_id uuid,
          open_since timestamptz, closed_at timestamptz, accrued_until timestamptz, billed_ms bigint, amount numeric)
        WHERE v.volume_id = u.volume_id`);
    },
  );
  return outcomes;
}

/**
 * Creates the rows of volumes seen for the first time (billed from nothing, accrued up to their
 * first event) and locks every row of the batch in volume order, returning what each holds: one
 * statement, the no-op update locking and returning a row that exists.
 */
async function lockVolumes(
  tx: Db,
  now: Date,
  events: readonly VolumeStateChanged[],
  ratePerGbMonth: bigint,
): Promise<Map<string, VolumeBilling>> {
  const first = new Map<string, VolumeStateChanged>();
  for (const e of events) if (!first.has(e.volume_id)) first.set(e.volume_id, e);
  const rows = [...first.values()].map((e) => ({
    volume_id: e.volume_id,
    ec2_id: e.volume.volume_id,
    tenant_id: e.tenant_id,
    region: e.volume.region,
    volume_type: e.volume.volume_type,
    size_gb: e.volume.size_gib,
    rate: moneyToDb(ratePerGbMonth),
    accrued_until: e.occurred_at,
  }));
  const ms = (column: string) => sql`(extract(epoch FROM ${sql.raw(`v.${column}`)}) * 1000)::bigint::text`;
  const locked = await tx.execute<{
    volume_id: string;
    rate: string;
    size_gb: number;
    open_since_ms: string | null;
    closed_at_ms: string | null;
    accrued_until_ms: string;
    billed_ms: string;
    amount: string;
  }>(sql`
    INSERT INTO billing.volumes AS v (volume_id, ec2_id, tenant_id, region, volume_type, size_gb, rate,
      accrued_until, updated_at)
    SELECT t.*, ${timeSql(now)} FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
      AS t(volume_id uuid, ec2_id text, tenant_id text, region text, volume_type text, size_gb integer,
        rate numeric, accrued_until timestamptz)
    ORDER BY volume_id
    ON CONFLICT (volume_id) DO UPDATE SET volume_id = v.volume_id
    RETURNING v.volume_id, v.rate::text, v.size_gb, ${ms("open_since")} AS open_since_ms,
      ${ms("closed_at")} AS closed_at_ms, ${ms("accrued_until")} AS accrued_until_ms,
      v.billed_ms::text, v.amount::text`);
  const num = (text: string | null) => (text === null ? null : Number(text));
  return new Map(
    locked.rows.map((row) => [
      row.volume_id,
      {
        rate: moneyFromDb(row.rate),
        sizeGb: row.size_gb,
        openSince: num(row.open_since_ms),
        closedAt: num(row.closed_at_ms),
        accruedUntil: Number(row.accrued_until_ms),
        billedMs: BigInt(row.billed_ms),
        amount: moneyFromDb(row.amount),
      },
    ]),
  );
}
