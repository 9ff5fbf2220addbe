import { randomUUID } from "node:crypto";
import { jetstreamManager } from "@nats-io/jetstream";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { z } from "zod";
import { createDatabase, type Database } from "./db.ts";
import { consumeEvents, ensureEventStream, eventStreamName, processBatchOnce } from "./events.ts";
import { createLogger } from "./logger.ts";
import type { Bus } from "./nats.ts";
import { connectTestBus } from "./testing/bus.ts";
import { createTestDatabase, type TestDatabase } from "./testing/postgres.ts";

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
  beforeAll(async () => {
    bus = await connectTestBus(inject("natsUrl"));
    await ensureEventStream(bus);
  });
  afterAll(async () => {
    await (await jetstreamManager(bus.nc)).streams.delete(eventStreamName(bus));
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
      // The invalid ones were dropped (term), not left for redelivery.
      await eventually(async () => (await pending("test-a")) === 0, "nothing pending");
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

describe("processBatchOnce", () => {
  let database: TestDatabase;
  let db: Database;
  beforeAll(async () => {
    database = await createTestDatabase(inject("postgresAdminUrl"));
    db = createDatabase(database.url, 2, log);
    await db.pool.query(
      "CREATE SCHEMA t; CREATE TABLE t.processed_events (event_id uuid PRIMARY KEY, processed_at timestamptz NOT NULL DEFAULT now())",
    );
  });
  afterAll(async () => {
    await db?.pool.end();
    await database?.drop();
  });

  const run = async (ids: string[], fail = false) => {
    let fresh: Set<string> | undefined;
    await processBatchOnce(db.db, "t", ids, async (tx, ids) => {
      fresh = ids;
      await tx.execute(sql`SELECT 1`);
      if (fail) throw new Error("apply failed");
    });
    return fresh;
  };

  it("applies the ids never processed, in one transaction with their record", async () => {
    const [a, b, c] = [randomUUID(), randomUUID(), randomUUID()];
    expect(await run([a, b])).toEqual(new Set([a, b]));
    // Seen already (in any case of letters), or twice in one batch: each fresh id once.
    expect(await run([b, c, c, a.toUpperCase()])).toEqual(new Set([c]));
    expect(await run([a, b, c])).toBeUndefined();
    // A failed apply records nothing.
    const d = randomUUID();
    await expect(run([d], true)).rejects.toThrow("apply failed");
    expect(await run([d])).toEqual(new Set([d]));
  });
});
