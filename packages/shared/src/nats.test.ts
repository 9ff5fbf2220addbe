import { randomUUID } from "node:crypto";
import { jetstreamManager } from "@nats-io/jetstream";
import { headers } from "@nats-io/transport-node";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { z } from "zod";
import { defineCommand } from "./contracts/command.ts";
import { AppError } from "./errors.ts";
import { ensureEventStream, eventStreamName } from "./events.ts";
import { handlerMetrics } from "./metrics.ts";
import type { Bus } from "./nats.ts";
import { connectTestBus } from "./testing/bus.ts";

const echo = defineCommand("test", "echo", {
  request: z.object({ n: z.number(), delay_ms: z.number().default(0) }),
  reply: z.object({ n: z.number() }),
});
const unanswered = defineCommand("nobody", "listens", { request: z.object({}), reply: z.object({}) });

describe("Bus", () => {
  let bus: Bus;
  beforeAll(async () => {
    bus = await connectTestBus(inject("natsUrl"), { requestTimeoutMs: 300 });
    bus.serve(
      echo,
      async ({ n, delay_ms }) => {
        await new Promise((r) => setTimeout(r, delay_ms));
        return { n };
      },
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

  it("says UNAVAILABLE, naming the service, when nobody answers the subject", async () => {
    const err = await failure(bus.request(unanswered, {}));
    expect(err).toBeInstanceOf(AppError);
    expect(err).toMatchObject({ code: "UNAVAILABLE", message: "no nobody is answering nobody.listens" });
  });

  it("says UNAVAILABLE after the request timeout, and drops the late answer", async () => {
    const err = await failure(bus.request(echo, { n: 1, delay_ms: 500 }));
    expect(err).toMatchObject({
      code: "UNAVAILABLE",
      message: "test did not answer test.echo within 300 ms",
    });
    await new Promise((r) => setTimeout(r, 300));
    expect(await bus.request(echo, { n: 2 })).toEqual({ n: 2 });
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
