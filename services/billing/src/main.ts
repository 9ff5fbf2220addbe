import { runService } from "@cloudsim/shared";
import { billingConfig } from "./config.ts";
import { startBilling } from "./service.ts";

await runService("billing", billingConfig, startBilling);
