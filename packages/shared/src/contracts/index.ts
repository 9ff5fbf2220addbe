export * from "./billing.ts";
export * from "./catalogue.ts";
export * from "./command.ts";
export * from "./events.ts";
export * from "./ipam.ts";
export * from "./reaper.ts";
export * from "./servers.ts";
export * from "./tenants.ts";
