import { z } from "zod";
import { InstanceType, Region } from "./catalogue.ts";
import { defineCommand } from "./command.ts";
import { pageCursor, pageLimit } from "./paging.ts";
import { TenantScope } from "./tenants.ts";
import { Timestamp } from "./timestamp.ts";
import { VolumeType } from "./volume-types.ts";

const Money = z
  .string()
  .regex(/^-?\d+\.\d{6,9}$/)
  .describe("Exact decimal amount in `currency`, at least 6 decimals (never a float)");
const Rate = z
  .string()
  .regex(/^\d+\.\d{6,9}$/)
  .describe("Price per minute of billable time, as an exact decimal");
const Seconds = z.number().min(0).describe("Billable seconds (to the millisecond of the events' timestamps)");

/** What a server has cost so far, current to the second (the open interval included). */
export const BillingUsage = z
  .object({
    rate: Rate.nullable().describe("Price per minute for this server's type; null until billing has seen it"),
    billable_seconds: Seconds,
    amount: Money,
    currency: z.string(),
    as_of: Timestamp,
  })
  .meta({ id: "BillingUsage" });
export type BillingUsage = z.infer<typeof BillingUsage>;

export const LedgerLine = z
  .object({
    id: z.string(),
    at: Timestamp.describe("The usage time up to which this line brings the server's total"),
    kind: z
      .enum(["accrual", "settlement", "correction"])
      .describe(
        "accrual: the billing tick or an event extended an open interval; settlement: an interval closed (stop, terminate, error); correction: a late or out-of-order event changed what was already billed",
      ),
    billable_seconds: z.number(),
    amount: Money,
    rate: Rate.nullable(),
    event_id: z.string().nullable().describe("The server event that caused this line; null for the tick"),
  })
  .meta({ id: "LedgerLine" });
export type LedgerLine = z.infer<typeof LedgerLine>;

/** Ledger pages: after the line id (a sequence) that ended the previous one. */
export const ledgerCursor = pageCursor((key) => /^\d{1,18}$/.test(key));

/** GET /servers/{id}/billing's query: a ledger outgrows one reply, so it is read a page at a time. */
export const LedgerQuery = z.object({ limit: pageLimit(1000), cursor: ledgerCursor.schema }).strict();

export const Ledger = z
  .object({
    server_id: z.string(),
    currency: z.string(),
    billable_seconds: Seconds.describe("Of every line, not only this page's"),
    amount: Money.describe("The sum of every line, not only this page's"),
    items: z.array(LedgerLine).describe("One page of the lines, oldest first; append-only"),
    next_cursor: z.string().nullable().describe("The cursor of the next page; null on the last"),
  })
  .meta({ id: "Ledger" });
export type Ledger = z.infer<typeof Ledger>;

const Total = z.object({ amount: Money, billable_seconds: Seconds });

const uuid = z.uuid();
/** by_server pages: after the server id that ended the previous one. */
export const summaryCursor = pageCursor((key) => uuid.safeParse(key).success);

export const BillingSummaryQuery = z
  .object({
    from: z.iso
      .datetime({ offset: true })
      .optional()
      .describe("RFC 3339; ledger lines at or after this time"),
    to: z.iso.datetime({ offset: true }).optional().describe("RFC 3339; ledger lines before this time"),
    limit: pageLimit(100).describe("by_server's page size, 1 to 100"),
    cursor: summaryCursor.schema,
  })
  .strict();

export const BillingSummary = z
  .object({
    from: Timestamp.nullable(),
    to: Timestamp.nullable(),
    currency: z.string(),
    total: Total.describe("Of every server, not only this page's"),
    by_server: z
      .array(Total.extend({ server_id: z.string(), type: InstanceType, region: Region }))
      .describe("One page of the servers, by id"),
    next_cursor: z.string().nullable().describe("The cursor of by_server's next page; null on the last"),
    by_type: z.array(Total.extend({ type: InstanceType })).describe("Of every server"),
    by_region: z.array(Total.extend({ region: Region })).describe("Of every server"),
    volumes: z
      .object({
        total: Total.describe("Of every volume (not in the servers' total above)"),
        by_type: z.array(Total.extend({ volume_type: VolumeType })),
      })
      .describe("EBS volumes, billed per GB-month from their creation until they start deleting"),
  })
  .meta({ id: "BillingSummary" });
export type BillingSummary = z.infer<typeof BillingSummary>;

/** The server whose bill is asked for, by its id alone. */
const BilledServerRef = z.object({ server_id: z.uuid() });

/** What an EBS volume has cost so far, current to the second. */
export const VolumeBillingUsage = z
  .object({
    volume_id: z.string().describe("The volume's EC2 id (vol-…)"),
    volume_type: VolumeType,
    size_gb: z.number().int(),
    rate: z
      .string()
      .regex(/^\d+\.\d{6,9}$/)
      .describe("Price of one GB-month (730 hours), as an exact decimal"),
    billable_seconds: Seconds,
    amount: Money,
    currency: z.string(),
    billed_from: Timestamp.nullable().describe("When the volume's billing began (its creation)"),
    billed_until: Timestamp.nullable().describe(
      "When it ended (the volume started deleting); null while billed",
    ),
    as_of: Timestamp,
  })
  .meta({ id: "VolumeBillingUsage" });
export type VolumeBillingUsage = z.infer<typeof VolumeBillingUsage>;

/** Commands answered by billing. */
export const billing = {
  usage: defineCommand("billing", "usage", { request: BilledServerRef, reply: BillingUsage }),
  ledger: defineCommand("billing", "ledger", {
    request: BilledServerRef.extend(LedgerQuery.shape),
    reply: Ledger,
  }),
  summary: defineCommand("billing", "summary", {
    /** null: every tenant (the admin key). */
    request: BillingSummaryQuery.extend({ tenant_id: TenantScope }),
    reply: BillingSummary,
  }),
  /** A volume's usage by its UUID or EC2 id, within the tenant scope (another tenant's: NOT_FOUND). */
  volumeUsage: defineCommand("billing", "volume_usage", {
    request: z.object({ volume_id: z.string().min(1).max(100), tenant_id: TenantScope }),
    reply: VolumeBillingUsage,
  }),
};
