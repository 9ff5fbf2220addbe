import { type JetStreamManager, jetstreamManager, type StreamConfig } from "@nats-io/jetstream";
import type { Bus } from "./bus.ts";
import type { Logger } from "./logger.ts";
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

/** How long a starting service waits for JetStream: a NATS cluster elects its leaders first. */
export const JETSTREAM_READY_TIMEOUT_MS = 60_000;
const JETSTREAM_RETRY_MS = 500;

/** What JetStream answered but cannot serve yet, such as a write a replica has not applied. */
export class JetStreamNotReady extends Error {
  override readonly name = "JetStreamNotReady";
}

/** A JetStream that is there but not ready yet: a timeout, no responder, or "temporarily unavailable". */
function notReadyYet(err: unknown): boolean {
  const { name, message } = (err ?? {}) as { name?: string; message?: string };
  return (
    err instanceof JetStreamNotReady ||
    name === "TimeoutError" ||
    name === "NoRespondersError" ||
    /temporarily unavailable|no responders/i.test(message ?? "")
  );
}

/**
 * Runs `setUp` (idempotent JetStream set-up, such as ensureEventStream) until it works, while
 * JetStream does not answer yet: a cluster that just started, or one electing a new leader,
 * times out or answers "temporarily unavailable" for a few seconds. At most a minute; any other
 * error (a refused permission, a bad configuration) comes out at once.
 */
export async function whenJetStreamAnswers<T>(setUp: () => Promise<T>, log: Logger): Promise<T> {
  // real time: a start-up wait for another process.
  const deadline = Date.now() + JETSTREAM_READY_TIMEOUT_MS;
  for (let attempt = 0; ; attempt++) {
    try {
      return await setUp();
    } catch (err) {
      if (!notReadyYet(err)) throw err;
      // real time: see above.
      if (Date.now() > deadline)
        throw new Error(
          `JetStream did not answer within ${JETSTREAM_READY_TIMEOUT_MS / 1000} s (is JetStream on, and has the cluster a leader?): ${(err as Error).message}`,
          { cause: err },
        );
      if (attempt % 10 === 0) log.warn({ err }, "JetStream does not answer yet; trying again");
      await new Promise((resolve) => setTimeout(resolve, JETSTREAM_RETRY_MS));
    }
  }
}
