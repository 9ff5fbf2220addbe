export { type ReaperConfig, reaperConfig } from "./config.ts";
export { startReaper } from "./service.ts";
