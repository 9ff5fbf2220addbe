import { randomBytes, randomUUID } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { allPages, busOf, eventually, useStack } from "./harness.ts";
import {
  type Action,
  actions,
  allowedFrom,
  endOf,
  expectChained,
  expectInvalidField,
  expectProblem,
  expectRefused,
  type State,
  servers,
  steps,
  via,
} from "./server-helpers.ts";

/** Every timed state lasts this long: long enough to act inside it, short enough to wait for. */
const delayMs = 1000;
const rid = (what: string) => `${what}-${randomBytes(5).toString("hex")}`;

describe("server actions", () => {
  const delay = `${delayMs}ms`;
  const ctx = useStack({
    env: {
      PROVISION_DELAY: delay,
      START_DELAY: delay,
      STOP_DELAY: delay,
      REBOOT_DELAY: delay,
      TERMINATE_DELAY: delay,
    },
  });
  const api = ctx.api;
  const s = servers(api);

  /** A 202 that shows the server in the timed state of `action`. */
  const accept = async (id: string, action: Action, requestId = rid(action)) => {
    const res = await s.act(id, action, { "x-request-id": requestId });
    expect(res.status, `${action} on ${id}: ${JSON.stringify(res.body)}`).toBe(202);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(res.body).toMatchObject({ id, state: via[action] });
    return res.body;
  };

  /** A fresh server in `state`; timed states are entered just now and last `delayMs`. */
  const reach = async (state: State): Promise<string> => {
    switch (state) {
      case "provisioning":
        return (await s.provision()).id;
      case "error": {
        const { id } = await s.provision(undefined, { "x-simulate-failure": "provision" });
        await s.until(id, "error");
        return id;
      }
      case "running": {
        const id = await reach("provisioning");
        await s.until(id, "running");
        return id;
      }
      case "stopping":
      case "rebooting":
      case "terminating": {
        const id = await reach("running");
        await accept(id, state === "stopping" ? "stop" : state === "rebooting" ? "reboot" : "terminate");
        return id;
      }
      case "stopped": {
        const id = await reach("stopping");
        await s.until(id, "stopped");
        return id;
      }
      case "starting": {
        const id = await reach("stopped");
        await accept(id, "start");
        return id;
      }
      case "terminated": {
        const id = await reach("terminating");
        await s.until(id, "terminated");
        return id;
      }
    }
  };

  /**
   * `action` on a server in `from`: 202 in the timed state, which GET shows too, then the end
   * state by itself no sooner than the delay; logged as user then system, both with the request id.
   */
  const walk = async (from: State, action: Action) => {
    const id = await reach(from);
    const before = await s.transitions(id);
    const requestId = rid(`${action}-from-${from}`);
    const accepted = await accept(id, action, requestId);
    const timed = via[action];
    expect((await s.get(id)).state).toBe(timed);
    const end = endOf[timed] as State;
    const ended = await s.until(id, end);
    expect(ended.id).toBe(id);
    expect(Date.parse(ended.updated_at)).toBeGreaterThan(Date.parse(accepted.updated_at));

    const log = await s.transitions(id);
    expectChained(log);
    expect(log.slice(0, before.length)).toEqual(before);
    const added = log.slice(before.length);
    expect(steps(added)).toEqual([
      [from, timed, "user", requestId],
      [timed, end, "system", requestId],
    ]);
    const [started, finished] = added;
    expect(started?.message).toContain(action);
    const lasted = Date.parse(finished?.at ?? "") - Date.parse(started?.at ?? "");
    expect(lasted).toBeGreaterThanOrEqual(delayMs - 2);
    return { id, ended, log };
  };

  describe.concurrent("every allowed transition walks through its timed state", () => {
    it("start: stopped → starting → running", async () => {
      const { ended } = await walk("stopped", "start");
      expect(ended.running_since).not.toBeNull();
    });

    it("stop: running → stopping → stopped", async () => {
      const { ended } = await walk("running", "stop");
      expect(ended.running_since).toBeNull();
      expect(ended.uptime_seconds).toBe(0);
    });

    it("reboot: running → rebooting → running, running again since the reboot", async () => {
      const { ended, log } = await walk("running", "reboot");
      const rebooted = log.at(-1);
      expect(Date.parse(ended.running_since)).toBe(Date.parse(rebooted?.at ?? ""));
    });

    for (const from of [
      "provisioning",
      "running",
      "stopping",
      "stopped",
      "starting",
      "rebooting",
      "error",
    ] as const) {
      it(`terminate: ${from} → terminating → terminated`, async () => {
        const { id, log } = await walk(from, "terminate");
        // A timed state cut short by terminate never completes.
        if (endOf[from]) expect(log.some((e) => e.from_state === from && e.actor === "system")).toBe(false);
        expect(await s.get(id)).toMatchObject({
          state: "terminated",
          running_since: null,
          uptime_seconds: 0,
        });
      });
    }
  });

  describe.concurrent("every forbidden action is 409 naming the state and exactly what is allowed", () => {
    const states: State[] = [
      "provisioning",
      "running",
      "stopping",
      "stopped",
      "starting",
      "rebooting",
      "terminating",
      "terminated",
      "error",
    ];
    for (const state of states) {
      const forbidden = actions.filter((a) => !allowedFrom[state].includes(a));
      it(`${state}: ${forbidden.join(", ")} refused; allowed ${JSON.stringify(allowedFrom[state])}`, async () => {
        const id = await reach(state);
        const logBefore = await s.log(id);
        const answers = await Promise.all(forbidden.map((action) => s.act(id, action)));
        for (const [i, res] of answers.entries()) {
          expectRefused(res, state);
          expect(res.body.action).toBe(forbidden[i]);
          expect(res.body.detail).toContain(state);
        }
        // DELETE is terminate, and is refused where terminate is.
        if (forbidden.includes("terminate")) expectRefused(await s.remove(id), state);
        // Refusals change nothing: the log holds no entry for them.
        const logAfter = await s.log(id);
        expect(logAfter.slice(0, logBefore.length)).toEqual(logBefore);
        for (const e of logAfter.slice(logBefore.length)) expect(e.actor).toBe("system");
        if (!endOf[state]) expect((await s.get(id)).state).toBe(state);
      });
    }
  });

  describe("DELETE /servers/{id}", () => {
    it("terminates like the terminate action: 202 terminating, then terminated", async () => {
      const id = await reach("running");
      const requestId = rid("delete");
      const res = await s.remove(id, { "x-request-id": requestId });
      expect(res.status, JSON.stringify(res.body)).toBe(202);
      expect(res.body).toMatchObject({ id, state: "terminating" });
      await s.until(id, "terminated");
      const log = await s.transitions(id);
      expect(steps(log.slice(-2))).toEqual([
        ["running", "terminating", "user", requestId],
        ["terminating", "terminated", "system", requestId],
      ]);
      expect(log.at(-2)?.message).toContain("terminate");
    });

    it("is 404 for an unknown id, well-formed or not", async () => {
      for (const id of [randomUUID(), "not-a-server"]) {
        const res = await s.remove(id);
        expectProblem(res, 404, "NOT_FOUND");
        expect(res.body.detail).toContain(id);
      }
    });
  });

  describe("POST /servers/{id}/action refusals that are not about the state", () => {
    it("is 404 for an unknown id, well-formed or not", async () => {
      for (const id of [randomUUID(), "not-a-server"]) {
        const res = await s.act(id, "stop");
        expectProblem(res, 404, "NOT_FOUND");
        expect(res.body.detail).toContain(id);
      }
    });

    it("a bad body is 400 naming the field, and changes nothing", async () => {
      const id = await reach("running");
      // billing.started reaches the log asynchronously after running; wait for it, so it is not taken for a change.
      const logBefore = await eventually(async () => {
        const log = await s.log(id);
        return log.some((e) => e.type === "billing.started") ? log : undefined;
      });
      for (const body of [{ action: "explode" }, { action: "STOP" }, { action: 1 }, { action: null }, {}]) {
        expectInvalidField(await api.post(`/servers/${id}/action`, body), "action");
      }
      expectInvalidField(await api.post(`/servers/${id}/action`, { action: "stop", force: true }), "force");
      expectProblem(await api.post(`/servers/${id}/action`, "{not json"), 400, "VALIDATION");
      expectProblem(await api.post(`/servers/${id}/action`), 400, "VALIDATION");
      // A bad body on an unknown server is still a bad body.
      expectInvalidField(await api.post(`/servers/${randomUUID()}/action`, { action: "fly" }), "action");
      expect((await s.get(id)).state).toBe("running");
      expect(await s.log(id)).toEqual(logBefore);
    });
  });

  describe("terminated servers", () => {
    let id: string;
    beforeAll(async () => {
      id = await reach("terminated");
    });

    it("stay readable by id, with their log", async () => {
      const server = await s.get(id);
      expect(server).toMatchObject({ id, state: "terminated", running_since: null, uptime_seconds: 0 });
      const log = await s.transitions(id);
      expect(log.at(-1)).toMatchObject({ from_state: "terminating", to_state: "terminated" });
    });

    it("are listed with ?state=terminated, and not by default", async () => {
      const terminated = (await allPages(api, "state=terminated", 100)).flatMap((p) => p.ids);
      expect(terminated).toContain(id);
      const all = (await allPages(api, "", 100)).flatMap((p) => p.ids);
      expect(all).not.toContain(id);
      // The default list still shows servers in every other state.
      const errored = await reach("error");
      const stopping = await reach("stopping");
      const listed = (await allPages(api, "", 100)).flatMap((p) => p.ids);
      expect(listed).toEqual(expect.arrayContaining([errored, stopping]));
      const byRegion = (await allPages(api, "region=us-east-1&state=terminated", 100)).flatMap((p) => p.ids);
      expect(byRegion).toContain(id);
    });
  });

  it("an action's event says what the server was and is, as GET shows it", async () => {
    const created = await s.provision({ region: "eu-west-1", type: "t2.small", tags: { team: "infra" } });
    await s.until(created.id, "running");
    const bus = await busOf(ctx.stack);
    try {
      // Only this subject: the event of reaching running may still be on its way.
      const events = bus.nc.subscribe(`${ctx.stack.env.NATS_SUBJECT_PREFIX ?? ""}events.server.terminating`);
      await bus.nc.flush();
      const requestId = rid("terminate");
      const accepted = await accept(created.id, "terminate", requestId);
      let event: Record<string, unknown> | undefined;
      for await (const msg of events) {
        event = msg.json<Record<string, unknown>>();
        if (event.server_id === created.id) break;
      }
      expect(event).toEqual({
        id: expect.any(String),
        type: "server.state_changed",
        tenant_id: "default",
        occurred_at: accepted.updated_at,
        server_id: created.id,
        request_id: requestId,
        from_state: "running",
        to_state: "terminating",
        actor: "user",
        server: {
          region: "eu-west-1",
          type: "t2.small",
          ip_address: created.ip_address,
          tags: { team: "infra" },
        },
      });
    } finally {
      await bus.close();
    }
  });

  it("the log holds every transition of a life in order, each by its actor with the request that caused it", async () => {
    const ids = {
      provision: rid("provision"),
      stop: rid("stop"),
      start: rid("start"),
      reboot: rid("reboot"),
      terminate: rid("terminate"),
    };
    const created = await s.provision(
      { region: "eu-west-1", type: "t2.small" },
      { "x-request-id": ids.provision },
    );
    const id = created.id;
    await s.until(id, "running");
    await accept(id, "stop", ids.stop);
    await s.until(id, "stopped");
    await accept(id, "start", ids.start);
    await s.until(id, "running");
    await accept(id, "reboot", ids.reboot);
    await s.until(id, "running");
    const removed = await s.remove(id, { "x-request-id": ids.terminate });
    expect(removed.status).toBe(202);
    await s.until(id, "terminated");

    const log = await s.transitions(id);
    expectChained(log);
    expect(steps(log)).toEqual([
      [null, "provisioning", "user", ids.provision],
      ["provisioning", "running", "system", ids.provision],
      ["running", "stopping", "user", ids.stop],
      ["stopping", "stopped", "system", ids.stop],
      ["stopped", "starting", "user", ids.start],
      ["starting", "running", "system", ids.start],
      ["running", "rebooting", "user", ids.reboot],
      ["rebooting", "running", "system", ids.reboot],
      ["running", "terminating", "user", ids.terminate],
      ["terminating", "terminated", "system", ids.terminate],
    ]);
    // Ids and times only go forward.
    const seq = log.map((e) => Number(e.id));
    expect([...seq].sort((a, b) => a - b)).toEqual(seq);
    for (let i = 1; i < log.length; i++)
      expect(Date.parse(log[i]?.at ?? "")).toBeGreaterThanOrEqual(Date.parse(log[i - 1]?.at ?? ""));
    // Each timed state lasted its delay.
    for (let i = 1; i < log.length; i += 2)
      expect(Date.parse(log[i]?.at ?? "") - Date.parse(log[i - 1]?.at ?? "")).toBeGreaterThanOrEqual(
        delayMs - 2,
      );
  });
});
