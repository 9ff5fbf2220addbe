import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { allPages, eventually, useStack } from "./harness.ts";
import { expectChained, expectInvalidField, type LogEntry, servers, steps } from "./server-helpers.ts";

const delayMs = 300;
const delays = {
  PROVISION_DELAY: `${delayMs}ms`,
  START_DELAY: `${delayMs}ms`,
  STOP_DELAY: `${delayMs}ms`,
  REBOOT_DELAY: `${delayMs}ms`,
  TERMINATE_DELAY: `${delayMs}ms`,
};
const rid = (what: string) => `${what}-${randomBytes(5).toString("hex")}`;
const fail = (what: string) => ({ "x-simulate-failure": what });
const released = (log: LogEntry[]) => log.filter((e) => e.type === "ip.released");

describe("simulated failures", () => {
  const ctx = useStack({ env: delays });
  const api = ctx.api;
  const s = servers(api);

  /** Waits for the ip.released entry of a server that ended, and checks it came once, after `after`. */
  const expectReleasedOnce = async (id: string, address: string, requestId: string, after: string) => {
    const log = await eventually(
      async () => {
        const entries = await s.log(id);
        return released(entries).length > 0 ? entries : undefined;
      },
      10_000,
      `ip.released for ${id}`,
    );
    const [entry, ...more] = released(log);
    expect(more).toEqual([]);
    expect(entry).toMatchObject({ actor: "system", request_id: requestId, from_state: null, to_state: null });
    expect(entry?.message).toContain(address);
    // It follows the state change that ended the server.
    const ended = log.findIndex((e) => e.type === "state.changed" && e.to_state === after);
    expect(ended).toBeGreaterThanOrEqual(0);
    expect(log.indexOf(entry as LogEntry)).toBeGreaterThan(ended);
  };

  /** Terminates a server in error; ipam has nothing more to release, so no second ip.released. */
  const terminateFromError = async (id: string, region: string, usedAfter: number) => {
    const res = await s.act(id, "terminate");
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    expect(res.body.state).toBe("terminating");
    await s.until(id, "terminated");
    const log = await s.transitions(id);
    expect(log.slice(-2).map((e) => [e.from_state, e.to_state])).toEqual([
      ["error", "terminating"],
      ["terminating", "terminated"],
    ]);
    // Give ipam time to see terminated: it must not release (or announce) anything again.
    await new Promise((r) => setTimeout(r, 500));
    expect(released(await s.log(id))).toHaveLength(1);
    expect(await s.poolUsed(region)).toBe(usedAfter);
  };

  it("X-Simulate-Failure: provision ends in error, gives the address back, and the server can be terminated", async () => {
    const region = "eu-west-1";
    const before = await s.poolUsed(region);
    const requestId = rid("provision-fails");
    const created = await s.provision(
      { region, type: "t2.small" },
      { ...fail("provision"), "x-request-id": requestId },
    );
    expect(created.ip_address).toEqual(expect.any(String));
    expect(await s.poolUsed(region)).toBe(before + 1);

    const errored = await s.until(created.id, "error");
    expect(errored).toMatchObject({ running_since: null, uptime_seconds: 0 });
    const log = await s.transitions(created.id);
    expect(steps(log)).toEqual([
      [null, "provisioning", "user", requestId],
      ["provisioning", "error", "system", requestId],
    ]);
    expect(log[1]?.message).toMatch(/fail/);
    expect(Date.parse(log[1]?.at ?? "") - Date.parse(log[0]?.at ?? "")).toBeGreaterThanOrEqual(delayMs - 2);

    await eventually(
      async () => ((await s.poolUsed(region)) === before ? true : undefined),
      10_000,
      "release",
    );
    await expectReleasedOnce(created.id, created.ip_address, requestId, "error");
    await terminateFromError(created.id, region, before);
  });

  it("X-Simulate-Failure: start ends starting in error and gives the address back", async () => {
    const region = "us-east-1";
    const before = await s.poolUsed(region);
    const { id, ip_address } = await s.provision({ region, type: "t2.micro" });
    await s.until(id, "running");
    expect((await s.act(id, "stop")).status).toBe(202);
    await s.until(id, "stopped");

    const requestId = rid("start-fails");
    const res = await s.act(id, "start", { ...fail("start"), "x-request-id": requestId });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    expect(res.body.state).toBe("starting");
    await s.until(id, "error");
    const log = await s.transitions(id);
    expectChained(log);
    expect(steps(log.slice(-2))).toEqual([
      ["stopped", "starting", "user", requestId],
      ["starting", "error", "system", requestId],
    ]);
    expect(log.at(-1)?.message).toMatch(/start.*fail/);

    await eventually(
      async () => ((await s.poolUsed(region)) === before ? true : undefined),
      10_000,
      "release",
    );
    await expectReleasedOnce(id, ip_address, requestId, "error");
    await terminateFromError(id, region, before);
  });

  it("X-Simulate-Failure: reboot ends rebooting in error and gives the address back", async () => {
    const region = "ap-southeast-1";
    const before = await s.poolUsed(region);
    const { id, ip_address } = await s.provision({ region, type: "t2.micro" });
    await s.until(id, "running");

    const requestId = rid("reboot-fails");
    const res = await s.act(id, "reboot", { ...fail("reboot"), "x-request-id": requestId });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    expect(res.body.state).toBe("rebooting");
    const errored = await s.until(id, "error");
    expect(errored.running_since).toBeNull();
    const log = await s.transitions(id);
    expect(steps(log.slice(-2))).toEqual([
      ["running", "rebooting", "user", requestId],
      ["rebooting", "error", "system", requestId],
    ]);
    expect(log.at(-1)?.message).toMatch(/reboot.*fail/);

    await eventually(
      async () => ((await s.poolUsed(region)) === before ? true : undefined),
      10_000,
      "release",
    );
    await expectReleasedOnce(id, ip_address, requestId, "error");
  });

  it("a failure asked for is dropped when terminate cuts the timed state short", async () => {
    const running = await s.provision({ region: "us-west-2", type: "t2.nano" });
    await s.until(running.id, "running");
    const doomed = await s.provision({ region: "us-west-2", type: "t2.nano" }, fail("provision"));
    const rebooting = await s.act(running.id, "reboot", fail("reboot"));
    expect(rebooting.status).toBe(202);
    for (const id of [doomed.id, running.id]) {
      const res = await s.remove(id);
      expect(res.status, JSON.stringify(res.body)).toBe(202);
    }
    for (const id of [doomed.id, running.id]) {
      await s.until(id, "terminated");
      expect((await s.transitions(id)).some((e) => e.to_state === "error")).toBe(false);
    }
  });

  it("a failure only affects the request that asked for it", async () => {
    const { id } = await s.provision({ region: "us-west-2", type: "t2.nano" });
    await s.until(id, "running");
    // An accepted stop with no header, then a start with none: both succeed.
    expect((await s.act(id, "stop")).status).toBe(202);
    await s.until(id, "stopped");
    expect((await s.act(id, "start")).status).toBe(202);
    await s.until(id, "running");
    expect((await s.transitions(id)).some((e) => e.to_state === "error")).toBe(false);
  });

  it("a value that does not match the request is 400 naming the header, and changes nothing", async () => {
    const region = "eu-central-1";
    const { id } = await s.provision({ region, type: "t2.nano" });
    await s.until(id, "running");
    const usedBefore = await s.poolUsed(region);
    // billing.* entries arrive at billing's own pace; they are not what this test is about.
    const ownLog = async () => (await s.log(id)).filter((e) => !e.type.startsWith("billing."));
    const logBefore = await ownLog();

    for (const value of ["start", "reboot", "stop", "terminate", "explode", ""]) {
      const res = await api.post("/servers", { region, type: "t2.nano" }, fail(value));
      expectInvalidField(res, "x-simulate-failure");
    }
    const mismatched: [string, string][] = [
      ["stop", "stop"],
      ["stop", "start"],
      ["stop", "reboot"],
      ["stop", "provision"],
      ["reboot", "start"],
      ["reboot", "provision"],
      ["start", "reboot"],
      ["terminate", "start"],
      ["terminate", "provision"],
      ["reboot", "explode"],
    ];
    for (const [action, value] of mismatched) {
      const res = await s.act(id, action, fail(value));
      expectInvalidField(res, "x-simulate-failure");
      expect(res.body.detail, `${action} with ${value}`).toMatch(/x-simulate-failure/i);
    }

    expect((await s.get(id)).state).toBe("running");
    expect(await ownLog()).toEqual(logBefore);
    expect(await s.poolUsed(region)).toBe(usedBefore);
    const listed = (await allPages(api, `region=${region}`, 100)).flatMap((p) => p.ids);
    expect(listed).toEqual([id]);
  });
});

describe("PROVISION_FAILURE_RATE=1", () => {
  const ctx = useStack({ env: { ...delays, PROVISION_FAILURE_RATE: "1" } });
  const api = ctx.api;
  const s = servers(api);

  it("sends every provision to error and gives every address back", async () => {
    const region = "us-east-1";
    const created = await Promise.all(
      Array.from({ length: 8 }, (_, i) => s.provision({ region, type: "t2.nano", name: `doomed-${i}` })),
    );
    expect(new Set(created.map((c) => c.ip_address)).size).toBe(created.length);
    for (const { id } of created) await s.until(id, "error");
    for (const { id } of created) {
      const log = await s.transitions(id);
      expect(log.map((e) => [e.from_state, e.to_state, e.actor])).toEqual([
        [null, "provisioning", "user"],
        ["provisioning", "error", "system"],
      ]);
    }
    await eventually(async () => ((await s.poolUsed(region)) === 0 ? true : undefined), 10_000, "releases");
    for (const { id, ip_address } of created) {
      const entries = await eventually(
        async () => {
          const found = released(await s.log(id));
          return found.length > 0 ? found : undefined;
        },
        10_000,
        `ip.released for ${id}`,
      );
      expect(entries).toHaveLength(1);
      expect(entries[0]?.message).toContain(ip_address);
    }
    const errored = (await allPages(api, `state=error&region=${region}`, 100)).flatMap((p) => p.ids);
    expect(errored.sort()).toEqual(created.map((c) => c.id).sort());
    expect((await allPages(api, "state=running", 100)).flatMap((p) => p.ids)).toEqual([]);
  });

  it("servers that failed to provision can still be terminated", async () => {
    const { id } = await s.provision({ region: "eu-west-1", type: "t2.nano" });
    await s.until(id, "error");
    const res = await s.remove(id);
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    await s.until(id, "terminated");
  });
});
