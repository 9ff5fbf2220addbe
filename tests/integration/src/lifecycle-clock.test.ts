import { lifecycleConfig, startLifecycle } from "@cloudsim/lifecycle";
import { type Clock, createLogger, loadConfig } from "@cloudsim/shared";
import { ensureSchemaOwners, localNatsUser } from "@cloudsim/shared/testing";
import { beforeAll, describe, expect, it } from "vitest";
import { eventually, useStack } from "./harness.ts";
import { servers } from "./server-helpers.ts";

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/**
 * lifecycle started on a clock of the test's own: the machine's time plus an offset the test
 * moves forward (a day ahead from the start). What it stores, shows and waits for is that
 * clock's: created_at a day ahead, a PROVISION_DELAY of an hour that ends when the clock is
 * moved an hour and not before, uptime counted on the clock.
 */
describe("lifecycle on a clock of its own", () => {
  let offset = DAY_MS;
  const clock: Clock = { now: () => Date.now() + offset };
  const ctx = useStack({ skip: ["lifecycle"] });
  const s = servers(ctx.api);

  beforeAll(async () => {
    const { stack } = ctx;
    const owners = await ensureSchemaOwners(stack.database.url);
    const env = {
      ...stack.env,
      DATABASE_URL: owners.lifecycle,
      ...localNatsUser("lifecycle"),
      PROVISION_DELAY: "1h",
    };
    const running = await startLifecycle(
      loadConfig(lifecycleConfig, env),
      createLogger("lifecycle", "info", stack.logs),
      clock,
    );
    // Stopped with the stack, before its database is dropped.
    stack.services.push({ name: "lifecycle", running });
  });

  it("stamps a server a day ahead, runs it when the clock reaches its due time, counts uptime on the clock", async () => {
    const before = clock.now();
    const created = await s.provision();
    const createdAt = Date.parse(created.created_at);
    expect(createdAt).toBeGreaterThanOrEqual(before);
    expect(createdAt).toBeLessThanOrEqual(clock.now());
    expect(createdAt - Date.now()).toBeGreaterThan(DAY_MS - 60_000);

    // An hour's PROVISION_DELAY: a few timer rounds of real time change nothing.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await s.get(created.id)).state).toBe("provisioning");

    // The clock moves an hour: due, and running at once.
    offset += HOUR_MS;
    const running = await s.until(created.id, "running", 5_000);
    const runningSince = Date.parse(running.running_since);
    expect(runningSince).toBeGreaterThanOrEqual(createdAt + HOUR_MS);
    expect(runningSince).toBeLessThanOrEqual(clock.now());

    // Two hours later on the clock: two hours of uptime, on GET and on the list.
    offset += 2 * HOUR_MS;
    const later = await s.get(created.id);
    expect(later.uptime_seconds).toBeGreaterThanOrEqual(2 * 3600);
    expect(later.uptime_seconds).toBeLessThan(2 * 3600 + 60);
    const listed = await ctx.api.get("/servers");
    const inList = listed.body.items.find((item: { id: string }) => item.id === created.id);
    expect(inList.uptime_seconds).toBeGreaterThanOrEqual(2 * 3600);

    // The log: provisioning when created, running an hour later, both on the clock.
    const transitions = await s.transitions(created.id);
    expect(transitions.map((e) => [e.to_state, Date.parse(e.at)])).toEqual([
      ["provisioning", createdAt],
      ["running", runningSince],
    ]);

    // An action is stamped with the clock, and its timed state ends on it.
    const stopping = await s.act(created.id, "stop");
    expect(stopping.status, JSON.stringify(stopping.body)).toBe(202);
    const stoppedAt = Date.parse(stopping.body.updated_at);
    expect(stoppedAt).toBeGreaterThanOrEqual(runningSince + 2 * HOUR_MS);
    const stopped = await eventually(async () => {
      const server = await s.get(created.id);
      return server.state === "stopped" ? server : undefined;
    });
    expect(Date.parse(stopped.updated_at)).toBeGreaterThanOrEqual(stoppedAt + 1000);
    expect(Date.parse(stopped.updated_at) - Date.now()).toBeGreaterThan(DAY_MS);
  });
});
