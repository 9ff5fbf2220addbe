import { z } from "zod";
import { InstanceType, Region } from "./catalogue.ts";
import { defineCommand } from "./command.ts";
import { TenantScope } from "./tenants.ts";

const Money = z
  .string()
  .regex(/^-?\d+\.\d{6,9}$/)
  .describe("Exact decimal amount in `currency`, at least 6 decimals (never a float)");
const Rate = z
  .string()
  .regex(/^\d+\.\d{6,9}$/)
  .describe("Price per minute of billable time, as an exact decimal");
const Seconds = z.number().min(0).describe("Billable seconds (to the millisecond of the events' timestamps)");
const Timestamp = z.string().describe("RFC 3339 time");

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

export const Ledger = z
  .object({
    server_id: z.string(),
    currency: z.string(),
    billable_seconds: Seconds,
    amount: Money.describe("The sum of the lines"),
    items: z.array(LedgerLine).describe("Oldest first; append-only"),
  })
  .meta({ id: "Ledger" });
export type Ledger = z.infer<typeof Ledger>;

const Total = z.object({ amount: Money, billable_seconds: Seconds });

export const BillingSummaryQuery = z
  .object({
    from: z.iso
      .datetime({ offset: true })
      .optional()
      .describe("RFC 3339; ledger lines at or after this time"),
    to: z.iso.datetime({ offset: true }).optional().describe("RFC 3339; ledger lines before this time"),
  })
  .strict();

export const BillingSummary = z
  .object({
    from: Timestamp.nullable(),
    to: Timestamp.nullable(),
    currency: z.string(),
    total: Total,
    by_server: z.array(Total.extend({ server_id: z.string(), type: InstanceType, region: Region })),
    by_type: z.array(Total.extend({ type: InstanceType })),
    by_region: z.array(Total.extend({ region: Region })),
  })
  .meta({ id: "BillingSummary" });
export type BillingSummary = z.infer<typeof BillingSummary>;

const ServerRef = z.object({ server_id: z.uuid() });

/** Commands answered by billing. */
export const billing = {
  usage: defineCommand("billing", "usage", { request: ServerRef, reply: BillingUsage }),
  ledger: defineCommand("billing", "ledger", { request: ServerRef, reply: Ledger }),
  summary: defineCommand("billing", "summary", {
    /** null: every tenant (the admin key). */
    request: BillingSummaryQuery.extend({ tenant_id: TenantScope }),
    reply: BillingSummary,
  }),
};
