export { type LifecycleConfig, lifecycleConfig } from "./config.ts";
export { startLifecycle } from "./service.ts";
