import { type Bus, listDeadLetters, natsRoles, natsServices } from "@cloudsim/shared";
import { connectTestBus } from "@cloudsim/shared/testing";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { eventually, useStack } from "./harness.ts";

/** Every durable consumer of the system, with the subject filter it reads. */
const consumers = natsServices.flatMap((service) => Object.values(natsRoles[service].consumers));

describe("poison events, every service connected as its own NATS user", () => {
  const ctx = useStack();
  let bus: Bus;
  beforeAll(async () => {
    bus = await connectTestBus(inject("natsUrl"), { subjectPrefix: ctx.stack.env.NATS_SUBJECT_PREFIX });
  });
  afterAll(() => bus?.close());

  it("are dead-lettered by each consumer at their first delivery, and later events are handled", async () => {
    for (const filter of new Set(consumers.map((c) => c.filter)))
      await bus.js.publish(bus.prefix + filter.replace(">", "poison"), "not an event");
    const letters = await eventually(async () => {
      const all = await listDeadLetters(bus, { limit: 100 });
      return all.length >= consumers.length ? all : undefined;
    });
    expect(letters.map((letter) => letter.consumer).sort()).toEqual(consumers.map((c) => c.durable).sort());
    for (const letter of letters) {
      expect(letter).toMatchObject({ deliveries: 1, payload: "not an event" });
      expect(letter.error).toMatch(/^does not match its contract/);
    }

    // The consumers went on: a server's events reach ipam, billing and lifecycle's log.
    const created = await ctx.api.post("/servers", { region: "eu-west-1", type: "t2.micro" });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const logTypes = await eventually(async () => {
      const types = (await ctx.api.get(`/servers/${created.body.id}/logs?limit=100`)).body.items.map(
        (entry: { type: string }) => entry.type,
      ) as string[];
      return types.includes("billing.started") ? types : undefined;
    });
    expect(logTypes).toContain("billing.started");
  });
});
