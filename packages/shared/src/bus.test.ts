import { randomUUID } from "node:crypto";
import { jetstreamManager } from "@nats-io/jetstream";
import { headers } from "@nats-io/transport-node";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { z } from "zod";
import type { Bus } from "./bus.ts";
import { defineCommand } from "./contracts/command.ts";
import { AppError } from "./errors.ts";
import { ensureEventStream, eventStreamName } from "./event-stream.ts";
import { handlerMetrics } from "./metrics.ts";
import { connectTestBus } from "./testing/bus.ts";

const echo = defineCommand("test", "echo", {
  request: z.object({ n: z.number(), delay_ms: z.number().default(0) }),
  reply: z.object({ n: z.number() }),
});
const unanswered = defineCommand("nobody", "listens", { request: z.object({}), reply: z.object({}) });
const big = defineCommand("test", "big", {
  request: z.object({ bytes: z.number() }),
  reply: z.object({ text: z.string(), deadline: z.number() }),
});
const slow = defineCommand("busy", "slow", { request: z.object({}), reply: z.object({}) });

// Each test twice: through nats-server, and with the serving bus in this process (LOCAL_REQUESTS).
describe.each([false, true])("Bus (local requests: %s)", (localRequests) => {
  let bus: Bus;
  beforeAll(async () => {
    bus = await connectTestBus(inject("natsUrl"), { requestTimeoutMs: 300, localRequests });
    bus.serve(
      echo,
      async ({ n, delay_ms }) => {
        await new Promise((r) => setTimeout(r, delay_ms));
        return { n };
      },
      handlerMetrics(new Registry()),
    );
    bus.serve(
      big,
      async ({ bytes }, ctx) => ({ text: "x".repeat(bytes), deadline: ctx.deadline }),
      handlerMetrics(new Registry()),
    );
    await bus.ping();
  });
  afterAll(async () => {
    // The stream publishToStream's test made, when it got that far.
    await (await jetstreamManager(bus.nc)).streams.delete(eventStreamName(bus)).catch(() => {});
    await bus.close();
  });

  const failure = (p: Promise<unknown>) =>
    p.then(
      () => undefined,
      (err: unknown) => err as AppError,
    );

  it("answers each of many concurrent requests with its own reply", async () => {
    const replies = await Promise.all(Array.from({ length: 200 }, (_, n) => bus.request(echo, { n })));
    expect(replies.map((r) => r.n)).toEqual(Array.from({ length: 200 }, (_, n) => n));
  });

  it(`sends a request to a server in this process ${localRequests ? "in memory" : "through nats-server"}`, async () => {
    const sent = bus.nc.stats().outMsgs;
    expect(await bus.request(echo, { n: 7 })).toEqual({ n: 7 });
    // Over NATS: the request, and the reply published back by the serving side (the same bus).
    expect(bus.nc.stats().outMsgs - sent).toBe(localRequests ? 0 : 2);
  });

  it("says UNAVAILABLE, naming the service, when nobody answers the subject", async () => {
    const err = await failure(bus.request(unanswered, {}));
    expect(err).toBeInstanceOf(AppError);
    expect(err).toMatchObject({ code: "UNAVAILABLE", message: "no nobody is answering nobody.listens" });
  });

  it("says TIMEOUT (outcome unknown) after the request timeout, and drops the late answer", async () => {
    const err = await failure(bus.request(echo, { n: 1, delay_ms: 500 }));
    expect(err).toMatchObject({
      code: "TIMEOUT",
      message: "test did not answer test.echo within 300 ms: the outcome is unknown",
    });
    await new Promise((r) => setTimeout(r, 300));
    expect(await bus.request(echo, { n: 2 })).toEqual({ n: 2 });
  });

  it("sends its deadline along: the handler's is a little before the caller gives up", async () => {
    const sent = Date.now();
    const { deadline } = await bus.request(big, { bytes: 1 });
    expect(deadline).toBeGreaterThan(sent + 200);
    expect(deadline).toBeLessThanOrEqual(Date.now() + 300);
  });

  it("refuses an answer larger than NATS' max_payload as TOO_LARGE, naming the limit", async () => {
    const limit = bus.nc.info?.max_payload ?? 0;
    expect(limit).toBeGreaterThan(0);
    const err = await failure(bus.request(big, { bytes: limit }));
    expect(err).toMatchObject({ code: "TOO_LARGE", details: { max_payload_bytes: limit } });
    expect(err?.message).toMatch(/max_payload/);
  });

  it("answers UNAVAILABLE at once past maxInFlight, and handles what it has room for", async () => {
    const busy = await connectTestBus(inject("natsUrl"), {
      subjectPrefix: bus.prefix,
      maxInFlight: 2,
      localRequests,
    });
    let release = () => {};
    const held = new Promise<void>((r) => {
      release = r;
    });
    busy.serve(slow, async () => held.then(() => ({})), handlerMetrics(new Registry()));
    await busy.ping();
    try {
      const answers = Array.from({ length: 10 }, () => failure(bus.request(slow, {})));
      // The refusals come back while the two handled requests are still held.
      const refusals = (await Promise.all(answers.slice(2))).filter((err) => err?.code === "UNAVAILABLE");
      expect(refusals).toHaveLength(8);
      expect(refusals[0]?.details).toMatchObject({ reason: "overloaded", limit: 2 });
      release();
      expect(await Promise.all(answers.slice(0, 2))).toEqual([undefined, undefined]);
    } finally {
      release();
      await busy.close();
    }
  });

  describe("publishToStream", () => {
    const stored = async () =>
      (await (await jetstreamManager(bus.nc)).streams.info(eventStreamName(bus))).state.messages;
    const withId = (id: string) => {
      const h = headers();
      h.set("Nats-Msg-Id", id);
      return h;
    };

    it("fails while no stream takes the subject", async () => {
      await expect(
        bus.publishToStream(`${bus.prefix}events.test.x`, "{}", withId(randomUUID())),
      ).rejects.toThrow();
    });

    it("resolves once the stream stored the message, and stores an id only once", async () => {
      await ensureEventStream(bus);
      const id = randomUUID();
      await bus.publishToStream(`${bus.prefix}events.test.x`, "{}", withId(id));
      await bus.publishToStream(`${bus.prefix}events.test.x`, "{}", withId(id));
      await bus.publishToStream(`${bus.prefix}events.test.x`, "{}", withId(randomUUID()));
      expect(await stored()).toBe(2);
    });
  });
});
