import { runService } from "@cloudsim/shared";
import { reaperConfig } from "./config.ts";
import { startReaper } from "./service.ts";

await runService("reaper", reaperConfig, startReaper);
