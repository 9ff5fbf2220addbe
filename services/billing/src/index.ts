export { type BillingConfig, billingConfig } from "./config.ts";
export { startBilling } from "./service.ts";
