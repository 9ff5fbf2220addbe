import { jetstreamManager, type StoredMsg } from "@nats-io/jetstream";
import { headers, type MsgHdrs } from "@nats-io/transport-node";
import type { Bus } from "./bus.ts";
import { REQUEST_ID_HEADER } from "./command-server.ts";
import type { EventsConfig } from "./config.ts";
import {
  DUPLICATE_WINDOW_NS,
  ensureStream,
  MSG_ID_HEADER,
  NANOS_PER_MS,
  TRACEPARENT_HEADER,
} from "./event-stream.ts";
import { deadLetterStreamName, deadLetterSubject } from "./nats-names.ts";

export { deadLetterStreamName, deadLetterSubject } from "./nats-names.ts";

/** The headers a dead letter carries besides the event's own request id and trace context. */
export const DEAD_LETTER_HEADERS = {
  subject: "Cloudsim-Dead-Subject",
  consumer: "Cloudsim-Dead-Consumer",
  error: "Cloudsim-Dead-Error",
  deliveries: "Cloudsim-Dead-Deliveries",
  streamSequence: "Cloudsim-Dead-Stream-Sequence",
} as const;

/** Bounded by age and size (the oldest go first), so a flood of poison cannot fill the disk. */
export async function ensureDeadLetterStream(bus: Bus, config: EventsConfig): Promise<void> {
  await ensureStream(await jetstreamManager(bus.nc), {
    name: deadLetterStreamName(bus),
    subjects: [`${bus.prefix}dead.>`],
    duplicate_window: DUPLICATE_WINDOW_NS,
    max_age: config.DEAD_LETTER_MAX_AGE * NANOS_PER_MS,
    max_bytes: config.DEAD_LETTER_MAX_BYTES,
    num_replicas: bus.streamReplicas,
  });
}

/** New headers with the request id and trace context of `from`, which a dead letter and its replay keep. */
export function contextHeaders(from: MsgHdrs | undefined): MsgHdrs {
  const h = headers();
  for (const name of [REQUEST_ID_HEADER, TRACEPARENT_HEADER]) {
    const value = from?.get(name);
    if (value) h.set(name, value);
  }
  return h;
}

/** A dead letter as stored: the event's payload, and where, why and after how many deliveries it was given up on. */
export interface DeadLetter {
  seq: number;
  storedAt: Date;
  subject: string;
  consumer: string;
  error: string;
  deliveries: number;
  payload: string;
}

const deadLetterOf = (stored: StoredMsg): DeadLetter => ({
  seq: stored.seq,
  storedAt: stored.time,
  subject: stored.header.get(DEAD_LETTER_HEADERS.subject),
  consumer: stored.header.get(DEAD_LETTER_HEADERS.consumer),
  error: stored.header.get(DEAD_LETTER_HEADERS.error),
  deliveries: Number(stored.header.get(DEAD_LETTER_HEADERS.deliveries)),
  payload: stored.string(),
});

/** The dead letters of this deployment, oldest first (`limit` at most); of one consumer when it is named. */
export async function listDeadLetters(
  bus: Bus,
  opts: { consumer?: string; limit: number },
): Promise<DeadLetter[]> {
  const jsm = await jetstreamManager(bus.nc);
  const stream = deadLetterStreamName(bus);
  const { state } = await jsm.streams.info(stream);
  const letters: DeadLetter[] = [];
  // Sequences between first and last may have been deleted (replayed), and answer null.
  for (let seq = state.first_seq; seq <= state.last_seq && letters.length < opts.limit; seq++) {
    const stored = state.messages > 0 ? await jsm.streams.getMessage(stream, { seq }) : null;
    if (stored && (!opts.consumer || stored.subject === bus.prefix + deadLetterSubject(opts.consumer)))
      letters.push(deadLetterOf(stored));
  }
  return letters;
}

/**
 * Publishes dead letter `seq` again on the subject it came from, then deletes it. Every consumer
 * of that subject gets it again; those that handled it before skip it by its event id.
 */
export async function replayDeadLetter(bus: Bus, seq: number): Promise<DeadLetter> {
  const jsm = await jetstreamManager(bus.nc);
  const stream = deadLetterStreamName(bus);
  const stored = await jsm.streams.getMessage(stream, { seq });
  if (!stored) throw new Error(`${stream} holds no dead letter ${seq}`);
  const letter = deadLetterOf(stored);
  const h = contextHeaders(stored.header);
  // Not the event's own id: the events stream would drop it within its duplicate window.
  h.set(MSG_ID_HEADER, `replay:${stream}:${seq}`);
  await bus.js.publish(letter.subject, stored.data, { headers: h });
  await jsm.streams.deleteMessage(stream, seq);
  return letter;
}
