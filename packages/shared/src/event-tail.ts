import { type Consumer, DeliverPolicy } from "@nats-io/jetstream";
import type { Bus } from "./bus.ts";
import { billingEventSubject, type EventType, eventSubjects } from "./contracts/stream-events.ts";
import { eventStreamName } from "./nats-names.ts";

/** The stream subject (after the prefix) that carries a type of event. */
function subjectOf(type: EventType): string {
  if (type === "server.state_changed") return eventSubjects.server;
  if (type === "ipam.released") return eventSubjects.ipam;
  return billingEventSubject(type === "billing.started" ? "started" : "stopped");
}

/** Messages pulled at once: what a feed holds for its client at most, beyond the socket's buffer. */
const BATCH = 64;
/** How long one pull waits for new events before the next (and so how soon a stop is seen). */
const PULL_WAIT_MS = 5_000;

export interface Tail {
  /** The sequences the stream no longer keeps that the reader asked for, if any. */
  skipped?: { from: number; to: number };
  /** Calls `deliver` for each event in order, waiting for `ready` before each pull, until stop(). */
  run(deliver: (seq: number, data: Uint8Array) => Promise<void>, ready: () => Promise<void>): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The events stream read from just after `after` (a sequence the reader saw), or from what comes
 * next, through an ordered consumer of this reader's own, only on the subjects of `types`.
 */
export async function openTail(bus: Bus, after: number | undefined, types?: EventType[]): Promise<Tail> {
  const stream = eventStreamName(bus);
  const { state } = await (await bus.js.streams.get(stream)).info(false);
  const subjects = [...new Set((types ?? []).map((t) => bus.prefix + subjectOf(t)))];
  // An id past the stream's end is from before it was made again: go on from its end.
  const start = after === undefined ? undefined : Math.min(after + 1, state.last_seq + 1);
  const consumer: Consumer = await bus.js.consumers.get(stream, {
    // One subject, or all events (the reader filters types itself): nats-server 2.9 takes one filter.
    filter_subjects: subjects.length === 1 ? subjects[0] : bus.prefix + eventSubjects.all,
    ...(start === undefined
      ? { deliver_policy: DeliverPolicy.New }
      : { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: Math.max(start, 1) }),
  });
  let stopped = false;
  let current: { stop(): void } | undefined;
  return {
    ...(start !== undefined && start < state.first_seq
      ? { skipped: { from: start, to: state.first_seq - 1 } }
      : {}),
    async run(deliver, ready) {
      while (!stopped) {
        await ready();
        if (stopped) break;
        const batch = await consumer.fetch({ max_messages: BATCH, expires: PULL_WAIT_MS });
        current = batch;
        for await (const msg of batch) {
          if (stopped) break;
          await deliver(msg.seq, msg.data);
        }
      }
    },
    async stop() {
      stopped = true;
      current?.stop();
      await consumer.delete().catch(() => false);
    },
  };
}
