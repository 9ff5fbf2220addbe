import { jetstreamManager } from "@nats-io/jetstream";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { z } from "zod";
import type { Bus } from "./bus.ts";
import { eventsConfig } from "./config.ts";
import { deadLetterStreamName, listDeadLetters, replayDeadLetter } from "./dead-letters.ts";
import { CONSUMER_UNREADABLE_LIMIT_MS, checkConsumersReadable, consumeEvents } from "./event-consumer.ts";
import { configureEventConsumers } from "./event-retries.ts";
import { ensureEventStream, eventStreamName } from "./event-stream.ts";
import { createLogger } from "./logger.ts";
import { createRegistry, type Registry } from "./metrics.ts";
import { connectTestBus } from "./testing/bus.ts";

const log = createLogger("test", "silent");
const Numbered = z.object({ n: z.number() });

const eventually = async (check: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} did not hold within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe("consumeEvents", () => {
  let bus: Bus;
  let registry: Registry;
  beforeAll(async () => {
    bus = await connectTestBus(inject("natsUrl"));
    registry = createRegistry("test");
    configureEventConsumers(
      bus,
      eventsConfig.parse({ EVENT_MAX_DELIVER: "3", EVENT_RETRY_DELAY: "100ms" }),
      registry,
    );
    await ensureEventStream(bus);
  });
  afterAll(async () => {
    const jsm = await jetstreamManager(bus.nc);
    await jsm.streams.delete(eventStreamName(bus));
    await jsm.streams.delete(deadLetterStreamName(bus));
    await bus.close();
  });

  const publish = (subject: string, payload: unknown) =>
    bus.js.publish(
      `${bus.prefix}events.${subject}`,
      typeof payload === "string" ? payload : JSON.stringify(payload),
    );
  const pending = async (durable: string) => {
    const info = await (await jetstreamManager(bus.nc)).consumers.info(eventStreamName(bus), durable);
    return info.num_pending + info.num_ack_pending;
  };
  const deadLetters = (consumer: string) => listDeadLetters(bus, { consumer, limit: 100 });
  const deadLettered = async (consumer: string) => {
    const metric = await registry.getSingleMetric("cloudsim_events_dead_lettered_total")?.get();
    return metric?.values.find((v) => v.labels.consumer === consumer)?.value ?? 0;
  };

  it("hands over what piled up as one batch, each event once in stream order, a lone one at once", async () => {
    for (let n = 0; n < 50; n++) await publish("a.x", { n });
    await publish("a.x", { n: "not a number" });
    await publish("a.x", "not json");
    const batches: number[][] = [];
    const consumer = await consumeEvents({
      bus,
      durable: "test-a",
      filter: "events.a.>",
      schema: Numbered,
      log,
      handleBatch: async (events) => {
        batches.push(events.map(({ event }) => event.n));
        await new Promise((r) => setTimeout(r, 5));
      },
    });
    try {
      await eventually(() => batches.flat().length >= 50, "50 events");
      expect(batches.flat()).toEqual(Array.from({ length: 50 }, (_, n) => n));
      expect(Math.max(...batches.map((b) => b.length))).toBeGreaterThan(1);
      // The invalid ones were dead-lettered at their first delivery, not left for redelivery.
      await eventually(async () => (await pending("test-a")) === 0, "nothing pending");
      const letters = await deadLetters("test-a");
      expect(letters.map((letter) => letter.payload)).toEqual(['{"n":"not a number"}', "not json"]);
      for (const letter of letters) {
        expect(letter.deliveries).toBe(1);
        expect(letter.error).toMatch(/^does not match its contract: (n: )?Invalid input/);
      }
      expect(await deadLettered("test-a")).toBe(2);
      const lone = Date.now();
      await publish("a.x", { n: 50 });
      await eventually(() => batches.at(-1)?.[0] === 50, "the lone event");
      expect(batches.at(-1)).toEqual([50]);
      expect(Date.now() - lone).toBeLessThan(1_000);
    } finally {
      await consumer.stop();
    }
  });

  it("retries a failed batch one event at a time: the others pass, only the failure comes back", async () => {
    for (let n = 0; n < 20; n++) await publish("b.x", { n });
    const done: number[] = [];
    let failures = 0;
    const consumer = await consumeEvents({
      bus,
      durable: "test-b",
      filter: "events.b.>",
      schema: Numbered,
      log,
      handleBatch: async (events) => {
        // Event 7 fails in its batch and alone; redelivered, it passes.
        if (events.some(({ event }) => event.n === 7) && failures < 2) {
          failures++;
          throw new Error("7 failed");
        }
        done.push(...events.map(({ event }) => event.n));
      },
    });
    try {
      await eventually(() => done.includes(7), "7 redelivered", 5_000);
      expect(failures).toBe(2);
      expect(done.filter((n) => n !== 7)).toEqual([...Array(20).keys()].filter((n) => n !== 7));
      expect(done.filter((n) => n === 7)).toHaveLength(1);
      await eventually(async () => (await pending("test-b")) === 0, "every event acked");
    } finally {
      await consumer.stop();
    }
  });

  it("dead-letters an event that fails EVENT_MAX_DELIVER times, with growing delays, and goes on", async () => {
    await publish("p.x", { n: 0 });
    await publish("p.x", { n: 1 });
    const attempts: number[] = [];
    const done: number[] = [];
    let fixed = false;
    const consumer = await consumeEvents({
      bus,
      durable: "test-p",
      filter: "events.p.>",
      schema: Numbered,
      log,
      handleBatch: async (events) => {
        if (!fixed && events.some(({ event }) => event.n === 0)) {
          // Its own delivery, not a batch it came in with 1 and that was then tried one by one.
          if (events.length === 1) attempts.push(Date.now());
          throw new Error("0 cannot be handled\never");
        }
        done.push(...events.map(({ event }) => event.n));
      },
    });
    try {
      await eventually(async () => (await deadLetters("test-p")).length === 1, "the dead letter", 5_000);
      expect(attempts).toHaveLength(3);
      const waits = attempts.slice(1).map((at, i) => at - (attempts[i] ?? 0));
      expect(waits[0]).toBeGreaterThanOrEqual(100);
      expect(waits[1]).toBeGreaterThanOrEqual(200);
      const [letter] = await deadLetters("test-p");
      expect(letter).toMatchObject({
        subject: `${bus.prefix}events.p.x`,
        consumer: "test-p",
        deliveries: 3,
        error: "0 cannot be handled ever",
        payload: '{"n":0}',
      });
      expect(await deadLettered("test-p")).toBe(1);
      await eventually(async () => (await pending("test-p")) === 0, "the dead letter acknowledged");
      // Events after it are handled, and it is not delivered again.
      await publish("p.x", { n: 2 });
      await eventually(() => done.includes(2), "the event after it");
      expect(done).toEqual([1, 2]);
      expect(attempts).toHaveLength(3);
      // Once the handler is fixed, a replay hands it over again and leaves no dead letter.
      fixed = true;
      await replayDeadLetter(bus, letter?.seq ?? 0);
      await eventually(() => done.includes(0), "the replayed event");
      expect(await deadLetters("test-p")).toEqual([]);
    } finally {
      await consumer.stop();
    }
  });

  it("stop() waits for the batch in hand", async () => {
    let release = () => {};
    const held = new Promise<void>((r) => {
      release = r;
    });
    let started = false;
    let finished = false;
    const consumer = await consumeEvents({
      bus,
      durable: "test-c",
      filter: "events.c.>",
      schema: Numbered,
      log,
      handleBatch: async () => {
        started = true;
        await held;
        finished = true;
      },
    });
    await publish("c.x", { n: 1 });
    await eventually(() => started, "the batch started");
    let stopped = false;
    const stopping = consumer.stop().then(() => {
      stopped = true;
    });
    await new Promise((r) => setTimeout(r, 100));
    expect(stopped).toBe(false);
    release();
    await stopping;
    expect(finished).toBe(true);
  });
});

describe("checkConsumersReadable", () => {
  const busWith = (consumers: Bus["consumers"]) => ({ consumers }) as unknown as Bus;

  it("passes while every consumer reads, or has been unreadable for less than the limit", () => {
    const now = 1_000_000;
    const recent = { stream: "S", durable: "recent", unreadableSince: now - CONSUMER_UNREADABLE_LIMIT_MS };
    expect(() =>
      checkConsumersReadable(busWith([{ stream: "S", durable: "reads" }, recent]), now),
    ).not.toThrow();
  });

  it("names each consumer unreadable for longer than the limit", () => {
    const now = 1_000_000;
    const stuck = {
      stream: "S",
      durable: "billing-usage",
      unreadableSince: now - CONSUMER_UNREADABLE_LIMIT_MS - 1,
    };
    expect(() => checkConsumersReadable(busWith([stuck, { stream: "S", durable: "fine" }]), now)).toThrow(
      "event consumer billing-usage unreadable for more than 30 s (tried again every second)",
    );
  });
});
