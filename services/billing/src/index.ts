export { type BillingConfig, billingConfig } from "./config.ts";
export { BillingRepository } from "./db/repository.ts";
export { billableStates, billOf, type Transition } from "./domain/bill.ts";
export { amountFor, formatMoney, parseMoney } from "./domain/money.ts";
export { rateTable } from "./domain/rates.ts";
export { startBilling } from "./service.ts";
