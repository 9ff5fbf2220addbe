import { randomBytes } from "node:crypto";
import { Bus } from "../bus.ts";
import { createLogger } from "../logger.ts";

/**
 * A test's connection to NATS as a service would make it, with silent logs: on a subject
 * prefix of its own unless given one (a stack's, to talk to its services).
 */
export function connectTestBus(
  url: string,
  options: {
    subjectPrefix?: string;
    requestTimeoutMs?: number;
    maxInFlight?: number;
    /** Requests to a bus serving in this process skip NATS (LOCAL_REQUESTS); off by default. */
    localRequests?: boolean;
  } = {},
): Promise<Bus> {
  return Bus.connect({
    url,
    name: "test",
    subjectPrefix: options.subjectPrefix ?? `t${randomBytes(5).toString("hex")}.`,
    requestTimeoutMs: options.requestTimeoutMs ?? 3_000,
    maxInFlight: options.maxInFlight ?? 512,
    // A test stands outside the stack it talks to: its requests go through nats-server.
    localRequests: options.localRequests ?? false,
    streamReplicas: 1,
    log: createLogger("test", "silent"),
  });
}
