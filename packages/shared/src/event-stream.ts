import { type JetStreamManager, jetstreamManager, type StreamConfig } from "@nats-io/jetstream";
import type { Bus } from "./bus.ts";
import { eventStreamName } from "./nats-names.ts";

/** The header that carries the W3C trace context of the change an event describes. */
export const TRACEPARENT_HEADER = "traceparent";

/** JetStream drops a message whose id it stored within the stream's duplicate window. */
export const MSG_ID_HEADER = "Nats-Msg-Id";

export const NANOS_PER_MS = 1_000_000;

export const DUPLICATE_WINDOW_NS = 2 * 60_000 * NANOS_PER_MS;

export { eventStreamName, streamName } from "./nats-names.ts";

/**
 * Creates a stream when it is missing (another service may create it between our look and our
 * add), and moves one kept with another number of replicas to `num_replicas`.
 */
export async function ensureStream(
  jsm: JetStreamManager,
  config: Partial<StreamConfig> & { name: string; num_replicas: number },
) {
  const existing = await jsm.streams.info(config.name).catch(() => undefined);
  if (!existing) {
    await jsm.streams.add(config).catch(async (err) => {
      await jsm.streams.info(config.name).catch(() => {
        throw err;
      });
    });
    return;
  }
  if (existing.config.num_replicas !== config.num_replicas)
    await jsm.streams.update(config.name, { ...existing.config, num_replicas: config.num_replicas });
}

/** Creates the events stream when it is missing; every service that publishes or consumes calls it. */
export async function ensureEventStream(bus: Bus): Promise<void> {
  await ensureStream(await jetstreamManager(bus.nc), {
    name: eventStreamName(bus),
    subjects: [`${bus.prefix}events.>`],
    duplicate_window: DUPLICATE_WINDOW_NS,
    max_age: 7 * 24 * 3_600_000 * NANOS_PER_MS,
    num_replicas: bus.streamReplicas,
  });
}
