import { runService } from "@cloudsim/shared";
import { lifecycleConfig } from "./config.ts";
import { startLifecycle } from "./service.ts";

await runService("lifecycle", lifecycleConfig, startLifecycle);
