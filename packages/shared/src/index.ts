export * from "./bus.ts";
export * from "./clock.ts";
export * from "./clock-store.ts";
export { type Handler, type HandlerContext, REQUEST_ID_HEADER, validationError } from "./command-server.ts";
export * from "./concurrency.ts";
export * from "./config.ts";
export * from "./contracts/index.ts";
export * from "./db.ts";
export {
  DEAD_LETTER_HEADERS,
  type DeadLetter,
  deadLetterStreamName,
  deadLetterSubject,
  listDeadLetters,
  replayDeadLetter,
} from "./dead-letters.ts";
export * from "./deadline.ts";
export * from "./duration.ts";
export * from "./errors.ts";
export { consumeEvents, type EventContext } from "./event-consumer.ts";
export { configureEventConsumers } from "./event-retries.ts";
export { ensureEventStream, eventStreamName, TRACEPARENT_HEADER } from "./event-stream.ts";
export * from "./event-tables.ts";
export { openTail, type Tail } from "./event-tail.ts";
export { waitForSettledEvents } from "./events-settled.ts";
export * from "./health.ts";
export * from "./ids.ts";
export * from "./logger.ts";
export * from "./metrics.ts";
export * from "./nats-permissions.ts";
export * from "./ops-metrics.ts";
export * from "./outbox.ts";
export * from "./outbox-relay.ts";
export * from "./poll-loop.ts";
export * from "./processed-events.ts";
export * from "./prune.ts";
export * from "./run-services.ts";
export * from "./service.ts";
export * from "./trace-context.ts";
export * from "./wildcards.ts";
