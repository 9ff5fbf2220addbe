import { baseConfig, databaseConfig, duration, outboxConfig, port } from "@cloudsim/shared";
import { z } from "zod";
import { parseMoney } from "./domain/money.ts";

/** An exact decimal price, in nano-units. */
const price = (fallback: string, expected: string) =>
  z
    .string()
    .default(fallback)
    .transform((text, ctx) => {
      try {
        return parseMoney(text);
      } catch {
        ctx.addIssue({ code: "custom", message: `expected ${expected}` });
        return z.NEVER;
      }
    });

export const billingConfig = baseConfig
  .extend(databaseConfig.shape)
  .extend(outboxConfig.shape)
  .extend({
    PORT: port(8083),
    /** Price per minute of t2.micro, and of every type the catalogue gives no rate of its own. */
    BILLING_RATE: price("0.01", "a decimal price per minute like 0.01"),
    /** Price of one GB-month (730 hours) of an EBS volume, of every volume type. */
    VOLUME_RATE: price("0.08", "a decimal price per GB-month like 0.08"),
    BILLING_CURRENCY: z
      .string()
      .regex(/^[A-Z]{3}$/, "expected an ISO 4217 code like USD")
      .default("USD"),
    /** How often open intervals are accrued into the ledger. */
    BILLING_INTERVAL: duration("60s"),
    /** Each billable interval is billed at least this long once it closes (60 mimics EC2). */
    BILLING_MINIMUM_SECONDS: z.coerce.number().int().min(0).max(86_400).default(0),
  });
export type BillingConfig = z.infer<typeof billingConfig>;
