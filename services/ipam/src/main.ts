import { runService } from "@cloudsim/shared";
import { ipamConfig } from "./config.ts";
import { startIpam } from "./service.ts";

await runService("ipam", ipamConfig, startIpam);
