export * from "./bus.ts";
export * from "./db-roles.ts";
export * from "./infrastructure.ts";
export * from "./nats-cluster.ts";
export * from "./nats-server.ts";
export * from "./ports.ts";
export * from "./postgres.ts";
export * from "./processes.ts";
