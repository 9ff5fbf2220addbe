import { AckPolicy, DeliverPolicy, type JsMsg, jetstreamManager } from "@nats-io/jetstream";
import type { z } from "zod";
import type { Bus } from "./bus.ts";
import { REQUEST_ID_HEADER } from "./command-server.ts";
import {
  contextHeaders,
  DEAD_LETTER_HEADERS,
  deadLetterStreamName,
  deadLetterSubject,
  ensureDeadLetterStream,
} from "./dead-letters.ts";
import { retryDelayMs, retryPolicyOf } from "./event-retries.ts";
import {
  eventStreamName,
  MSG_ID_HEADER,
  NANOS_PER_MS,
  TRACEPARENT_HEADER,
  whenJetStreamAnswers,
} from "./event-stream.ts";
import { type Logger, withRequestId } from "./logger.ts";
import {
  parseTraceparent,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  tracer,
} from "./trace-context.ts";

export interface EventContext {
  requestId: string | null;
  log: Logger;
}

/**
 * The context of one event. Its logger is made when first used: pino serializes a child's
 * bindings as it makes it, and most events are handled without a line logged.
 */
class LazyEventContext implements EventContext {
  #log: Logger | undefined;

  constructor(
    private readonly parent: Logger,
    private readonly subject: string,
    readonly requestId: string | null,
  ) {}

  get log(): Logger {
    this.#log ??= this.parent.child(
      this.requestId ? { event: this.subject, request_id: this.requestId } : { event: this.subject },
    );
    return this.#log;
  }
}

/** The most events handed over as one batch (as many as the consumer pulls at a time). */
const MAX_BATCH = 200;

/** The most characters of an error a dead letter keeps. */
const MAX_ERROR_HEADER = 1_000;

/** A message's JSON payload; undefined when it is not JSON (the schema then rejects it). */
function jsonOf(msg: JsMsg): unknown {
  try {
    return msg.json();
  } catch {
    return undefined;
  }
}

/** How long a consumer whose messages ended waits before reading it again. */
const RESUME_DELAY_MS = 1_000;
/** How long a consumer may stay unreadable (retried every second) before its service is not ready. */
export const CONSUMER_UNREADABLE_LIMIT_MS = 30_000;

/** Throws, naming them, when consumers of `bus` have been unreadable for longer than the limit. */
// real time: how long a consumer has been unreadable is a real outage's length.
export function checkConsumersReadable(bus: Bus, now = Date.now()): void {
  const stuck = bus.consumers.filter(
    (c) => c.unreadableSince !== undefined && now - c.unreadableSince > CONSUMER_UNREADABLE_LIMIT_MS,
  );
  if (stuck.length > 0)
    throw new Error(
      `event consumer ${stuck.map((c) => c.durable).join(", ")} unreadable for more than ${CONSUMER_UNREADABLE_LIMIT_MS / 1000} s (tried again every second)`,
    );
}
/** How long one pull request waits for messages (its heartbeats come at half that). */
const PULL_EXPIRES_MS = 5_000;

/**
 * A durable consumer shared by a service's replicas. `handleBatch` gets what arrived while the
 * last batch ran (one event when idle, many under load) and must be idempotent by event id
 * (processBatchOnce). A failed event is retried with backoff, then dead-lettered so the rest go on.
 */
export async function consumeEvents<S extends z.ZodType>(opts: {
  bus: Bus;
  durable: string;
  filter: string;
  schema: S;
  log: Logger;
  handleBatch: (events: Array<{ event: z.infer<S>; ctx: EventContext }>) => Promise<void>;
}): Promise<{ stop(): Promise<void> }> {
  const { bus, durable, log } = opts;
  const stream = eventStreamName(bus);
  const jsm = await jetstreamManager(bus.nc);
  const policy = retryPolicyOf(bus);
  const { EVENT_MAX_DELIVER: maxDeliver, EVENT_ACK_WAIT: ackWaitMs } = policy.config;
  const config = {
    durable_name: durable,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    filter_subject: bus.prefix + opts.filter,
    ack_wait: ackWaitMs * NANOS_PER_MS,
    max_ack_pending: 1_000,
  };
  /**
   * The durable consumer, made when missing (replicas add the same one: it existing is what we
   * want), and given this EVENT_ACK_WAIT when it was made with another.
   */
  const ensureConsumer = () =>
    jsm.consumers.add(stream, config).catch(async (err) => {
      const found = await jsm.consumers.info(stream, durable).catch(() => {
        throw err;
      });
      if (found.config.ack_wait !== config.ack_wait)
        await jsm.consumers.update(stream, durable, { ack_wait: config.ack_wait });
    });
  // A stream just made on a cluster elects its leader before it takes consumers.
  await whenJetStreamAnswers(ensureConsumer, log);
  // At 0 from the start: Prometheus's increase() does not see the first dead letter of a new series.
  policy.deadLettered.inc({ consumer: durable }, 0);
  await whenJetStreamAnswers(() => ensureDeadLetterStream(bus, policy.config), log);
  // A pull lasts PULL_EXPIRES_MS: one lost with a NATS node is replaced that soon, not 30 s later.
  const read = async () =>
    (await bus.js.consumers.get(stream, durable)).consume({
      max_messages: MAX_BATCH,
      expires: PULL_EXPIRES_MS,
    });
  let messages = await read();
  const registered: (typeof bus.consumers)[number] = { stream, durable };
  bus.consumers.push(registered);

  type Parsed = { msg: JsMsg; event: z.infer<S>; ctx: EventContext };
  /** Hands `events` over; a single event runs in its request's scope, so its log lines name it. */
  const handle = (events: Parsed[]) =>
    withRequestId(events.length === 1 ? (events[0]?.ctx.requestId ?? null) : null, () =>
      opts.handleBatch(events.map(({ event, ctx }) => ({ event, ctx }))),
    );
  const recordError = (span: Span, err: unknown) => {
    if (err instanceof Error) span.recordException(err);
    span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error)?.message });
  };

  // Each batch in a consumer span of its own trace, linked to the change behind each event.
  const handleBatch = (batch: JsMsg[]) => {
    const subjects = new Set(batch.map((msg) => msg.subject));
    const origins = batch.map((msg) => parseTraceparent(msg.headers?.get(TRACEPARENT_HEADER)));
    return tracer().startActiveSpan(
      `${opts.filter} process`,
      {
        kind: SpanKind.CONSUMER,
        root: true,
        links: origins.filter((origin) => origin !== undefined).map((origin) => ({ context: origin })),
        attributes: {
          "messaging.system": "nats",
          "messaging.destination.name": subjects.size === 1 ? [...subjects][0] : bus.prefix + opts.filter,
          "messaging.operation.type": "process",
          "messaging.consumer.group.name": durable,
          "messaging.batch.message_count": batch.length,
          // A message id names one message; a batch has many.
          ...(batch.length === 1
            ? { "messaging.message.id": batch[0]?.headers?.get(MSG_ID_HEADER) || "" }
            : {}),
        },
      },
      ROOT_CONTEXT,
      async (span) => {
        try {
          await handleInSpan(span, batch);
        } finally {
          span.end();
        }
      },
    );
  };
  const handleInSpan = async (span: Span, batch: JsMsg[]) => {
    const events: Parsed[] = [];
    for (const msg of batch) {
      // Delivered before and neither acknowledged nor refused: its handling hung or its process died.
      if (msg.info.deliveryCount > maxDeliver) {
        span.setStatus({ code: SpanStatusCode.ERROR, message: "event given up on" });
        await deadLetter(msg, `not handled in ${msg.info.deliveryCount - 1} deliveries`);
        continue;
      }
      const parsed = opts.schema.safeParse(jsonOf(msg));
      if (!parsed.success) {
        // Another delivery would not parse either.
        span.setStatus({ code: SpanStatusCode.ERROR, message: "invalid event" });
        const issues = parsed.error.issues.map((issue) => [...issue.path, issue.message].join(": "));
        await deadLetter(msg, `does not match its contract: ${issues.join("; ")}`);
        continue;
      }
      const requestId = msg.headers?.get(REQUEST_ID_HEADER) || null;
      events.push({ msg, event: parsed.data, ctx: new LazyEventContext(log, msg.subject, requestId) });
    }
    if (events.length === 0) return;
    try {
      await handle(events);
      for (const { msg } of events) msg.ack();
    } catch (err) {
      recordError(span, err);
      if (events.length === 1) for (const one of events) await failed(one, err);
      else {
        // One bad event must not hold back the others: each alone, only the failures redelivered.
        log.warn({ err, events: events.length }, "event batch failed; handling its events one by one");
        for (const one of events) {
          try {
            await handle([one]);
            one.msg.ack();
          } catch (err) {
            recordError(span, err);
            await failed(one, err);
          }
        }
      }
    }
  };
  const failed = async ({ msg, ctx }: Parsed, err: unknown) => {
    const deliveries = msg.info.deliveryCount;
    if (deliveries >= maxDeliver) return deadLetter(msg, (err as Error)?.message || String(err));
    const delayMs = retryDelayMs(policy.config, deliveries);
    ctx.log.error(
      { err, subject: msg.subject, deliveries, delay_ms: delayMs },
      "event handling failed; it will be redelivered",
    );
    msg.nak(delayMs);
  };
  /** Stores `msg` in the dead-letter stream, then acknowledges it; when that store fails, it comes back later. */
  const deadLetter = async (msg: JsMsg, error: string) => {
    const { deliveryCount: deliveries, streamSequence } = msg.info;
    const h = contextHeaders(msg.headers);
    h.set(DEAD_LETTER_HEADERS.subject, msg.subject);
    h.set(DEAD_LETTER_HEADERS.consumer, durable);
    // A header is one line, and a few of them must fit in a message.
    h.set(DEAD_LETTER_HEADERS.error, error.replace(/\s+/g, " ").slice(0, MAX_ERROR_HEADER));
    h.set(DEAD_LETTER_HEADERS.deliveries, String(deliveries));
    h.set(DEAD_LETTER_HEADERS.streamSequence, String(streamSequence));
    try {
      // Its id makes a store whose acknowledgement was lost, tried again, one dead letter.
      await bus.js.publish(bus.prefix + deadLetterSubject(durable), msg.data, {
        headers: h,
        msgID: `${durable}:${streamSequence}`,
      });
    } catch (err) {
      log.error(
        { err, subject: msg.subject, deliveries },
        "event could not be dead-lettered; it will be redelivered",
      );
      msg.nak(retryDelayMs(policy.config, deliveries));
      return;
    }
    policy.deadLettered.inc({ consumer: durable });
    log.error(
      { subject: msg.subject, consumer: durable, deliveries, stream_sequence: streamSequence, error },
      `event dead-lettered to ${deadLetterStreamName(bus)}; see docs/runbook.md#eventsdeadlettered`,
    );
    msg.ack();
  };

  // The reader only buffers; the worker takes all that is buffered as the next batch, and
  // waits for a message only when nothing is (so a lone event is handled at once).
  const buffer: JsMsg[] = [];
  let wake = () => {};
  let readerDone = false;
  let stopping = false;
  /**
   * Reading again after the messages ended while the service runs: the consumer moved or was
   * lost with a NATS node, so it is made again if missing, once a second until that works.
   */
  const readAgain = async () => {
    let failures = 0;
    // real time: see checkConsumersReadable.
    registered.unreadableSince = Date.now();
    for (;;) {
      await new Promise((resolve) => setTimeout(resolve, RESUME_DELAY_MS));
      if (stopping) return;
      try {
        await ensureConsumer();
        messages = await read();
        registered.unreadableSince = undefined;
        return;
      } catch (err) {
        // Once a second is the retry; a line every half minute is enough to say it goes on.
        if (failures++ % 30 === 0)
          log.warn({ err, consumer: durable, failures }, "event consumer not readable yet; trying again");
      }
    }
  };
  const reader = (async () => {
    try {
      while (!stopping) {
        try {
          for await (const msg of messages) {
            buffer.push(msg);
            wake();
          }
        } catch (err) {
          if (!stopping) log.warn({ err, consumer: durable }, "event consumer interrupted");
        }
        if (!stopping) {
          log.warn({ consumer: durable }, "event consumer stopped delivering; reading it again");
          await readAgain();
        }
      }
    } finally {
      readerDone = true;
      wake();
    }
  })();
  const worker = (async () => {
    while (!stopping) {
      if (buffer.length > 0) await handleBatch(buffer.splice(0, MAX_BATCH));
      else if (readerDone) return;
      else
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
    }
  })();
  return {
    async stop() {
      const i = bus.consumers.indexOf(registered);
      if (i >= 0) bus.consumers.splice(i, 1);
      // The batch in hand finishes; no other starts.
      stopping = true;
      await messages.close();
      wake();
      await Promise.all([worker, reader]);
      // Sooner than ack_wait: what was buffered but not started goes back to the stream now.
      for (const msg of buffer.splice(0)) msg.nak();
    },
  };
}
