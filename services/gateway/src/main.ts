import { runService } from "@cloudsim/shared";
import { gatewayConfig } from "./config.ts";
import { startGateway } from "./service.ts";

await runService("gateway", gatewayConfig, startGateway);
