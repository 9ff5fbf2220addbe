import type { Bus } from "./bus.ts";
import { type EventsConfig, eventsConfig } from "./config.ts";
import { Counter, type Registry } from "./metrics.ts";

/** The longest a failed event waits for its next delivery, however many it had. */
const MAX_RETRY_DELAY_MS = 5 * 60_000;

/** How the event consumers of one service retry, and where they count what they gave up on. */
export interface RetryPolicy {
  config: EventsConfig;
  deadLettered: Counter<"consumer">;
}

// Per bus, as every consumer of a service gets its bus: set by startRuntime (configureEventConsumers).
const retryPolicies = new WeakMap<Bus, RetryPolicy>();

/**
 * Sets how the event consumers on `bus` retry (EVENT_MAX_DELIVER, EVENT_RETRY_DELAY) and keep
 * their dead letters (DEAD_LETTER_*), and registers cloudsim_events_dead_lettered_total in
 * `registry`. Consumers on a bus never configured use the defaults and count in no registry.
 */
export function configureEventConsumers(bus: Bus, config: EventsConfig, registry: Registry): void {
  retryPolicies.set(bus, { config, deadLettered: deadLetteredCounter([registry]) });
}

const deadLetteredCounter = (registers: Registry[]) =>
  new Counter({
    name: "cloudsim_events_dead_lettered_total",
    help: "Events a consumer gave up on (failed EVENT_MAX_DELIVER times, or not matching their contract) and stored in the dead-letter stream",
    labelNames: ["consumer"],
    registers,
  });

export function retryPolicyOf(bus: Bus): RetryPolicy {
  let policy = retryPolicies.get(bus);
  if (!policy) {
    policy = { config: eventsConfig.parse({}), deadLettered: deadLetteredCounter([]) };
    retryPolicies.set(bus, policy);
  }
  return policy;
}

/** The wait before delivery `deliveries + 1`: EVENT_RETRY_DELAY, doubling with each delivery, capped. */
export const retryDelayMs = (config: EventsConfig, deliveries: number) =>
  Math.min(config.EVENT_RETRY_DELAY * 2 ** (deliveries - 1), MAX_RETRY_DELAY_MS);
