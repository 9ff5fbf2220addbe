import { randomBytes } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { type Answer, eventually, useStack } from "./harness.ts";
import {
  type Action,
  allowedFrom,
  endOf,
  expectChained,
  expectRefused,
  type LogEntry,
  type State,
  servers,
  via,
} from "./server-helpers.ts";

const delayMs = 200;
const region = "us-west-2";

/** mulberry32: a small seeded generator, so a failing mix can be replayed from its seed. */
function generator(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe("concurrent actions on one server", () => {
  const delay = `${delayMs}ms`;
  const ctx = useStack({
    env: { START_DELAY: delay, STOP_DELAY: delay, REBOOT_DELAY: delay, TERMINATE_DELAY: delay },
  });
  const api = ctx.api;
  const s = servers(api);

  const running = async () => {
    const { id } = await s.provision({ region, type: "t2.nano" });
    await s.until(id, "running");
    return id;
  };
  const stopped = async () => {
    const id = await running();
    expect((await s.act(id, "stop")).status).toBe(202);
    await s.until(id, "stopped");
    return id;
  };
  const accepted = (answers: Answer[]) => answers.filter((res) => res.status === 202);
  const refused = (answers: Answer[]) => answers.filter((res) => res.status === 409);

  it("10 concurrent stop on a running server: exactly one 202, nine 409 naming stopping", async () => {
    const id = await running();
    const before = (await s.transitions(id)).length;
    const answers = await Promise.all(Array.from({ length: 10 }, () => s.act(id, "stop")));
    expect(answers.map((res) => res.status).sort()).toEqual([202, ...Array(9).fill(409)]);
    expect(accepted(answers)[0]?.body.state).toBe("stopping");
    // The losers saw the winner's state (or, if slow, the state it ended in).
    for (const res of refused(answers)) expectRefused(res, res.body.state);
    for (const res of refused(answers)) expect(["stopping", "stopped"]).toContain(res.body.state);
    await s.until(id, "stopped");
    const log = await s.transitions(id);
    expect(log.slice(before).map((e) => [e.from_state, e.to_state, e.actor])).toEqual([
      ["running", "stopping", "user"],
      ["stopping", "stopped", "system"],
    ]);
  });

  it("10 concurrent start on a stopped server: exactly one 202", async () => {
    const id = await stopped();
    const answers = await Promise.all(Array.from({ length: 10 }, () => s.act(id, "start")));
    expect(accepted(answers)).toHaveLength(1);
    expect(refused(answers)).toHaveLength(9);
    for (const res of refused(answers)) expect(["starting", "running"]).toContain(res.body.state);
    await s.until(id, "running");
    expect((await s.transitions(id)).filter((e) => e.to_state === "starting")).toHaveLength(1);
  });

  it("concurrent stop and reboot: exactly one 202, the other 409 naming the winner's state", async () => {
    const round = async () => {
      const id = await running();
      const answers = await Promise.all([s.act(id, "stop"), s.act(id, "reboot")]);
      const [stop, reboot] = answers;
      expect(accepted(answers), JSON.stringify(answers.map((a) => a.body))).toHaveLength(1);
      const winner = stop?.status === 202 ? stop : reboot;
      const loser = stop?.status === 202 ? reboot : stop;
      expectRefused(loser as Answer, winner?.body.state);
      const end = endOf[winner?.body.state as State] as State;
      await s.until(id, end);
      const log = await s.transitions(id);
      expectChained(log);
      expect(log.filter((e) => e.actor === "user" && e.from_state === "running")).toHaveLength(1);
      return winner?.body.state as State;
    };
    const winners = await Promise.all(Array.from({ length: 6 }, round));
    expect(winners.every((w) => w === "stopping" || w === "rebooting")).toBe(true);
  });

  it("10 concurrent terminates, half by DELETE: exactly one 202, one termination logged", async () => {
    const id = await running();
    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, i) => (i % 2 ? s.remove(id) : s.act(id, "terminate"))),
    );
    expect(accepted(answers)).toHaveLength(1);
    for (const res of refused(answers)) expect(["terminating", "terminated"]).toContain(res.body.state);
    await s.until(id, "terminated");
    const log = await s.transitions(id);
    expect(log.filter((e) => e.to_state === "terminating")).toHaveLength(1);
    expect(log.filter((e) => e.to_state === "terminated")).toHaveLength(1);
  });

  describe("random mixes of actions over many servers", () => {
    const count = 30;
    const mixRegion = "ap-southeast-1";
    const seed = Number.parseInt(process.env.RACES_SEED ?? String(Date.now() % 1_000_000), 10);
    const random = generator(seed);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
    const context = `(seed ${seed}; replay with RACES_SEED=${seed})`;

    interface Sent {
      action: Action;
      requestId: string;
      res: Answer;
    }
    interface Mixed {
      id: string;
      initial: State;
      logBefore: number;
      sent: Sent[];
      log: LogEntry[];
      final: State;
    }
    const mixed: Mixed[] = [];

    beforeAll(async () => {
      const ids = await Promise.all(
        Array.from({ length: count }, async (_, i) => {
          const id = (await s.provision({ region: mixRegion, type: "t2.micro", name: `mix-${i}` }))
            .id as string;
          await s.until(id, "running");
          if (i % 2) {
            expect((await s.act(id, "stop")).status).toBe(202);
            await s.until(id, "stopped");
          }
          return id;
        }),
      );
      // Decide every burst before sending any, so the plan depends on the seed alone.
      const plans = ids.map((id, i) => ({
        id,
        initial: (i % 2 ? "stopped" : "running") as State,
        burst: Array.from({ length: 3 + Math.floor(random() * 3) }, () => ({
          action: pick(["start", "stop", "reboot", "terminate"] as const),
          // Most arrive together; some a little later, after a timed state may have ended.
          afterMs: random() < 0.6 ? 0 : Math.floor(random() * delayMs * 1.5),
        })),
      }));
      const logBefore = await Promise.all(ids.map(async (id) => (await s.transitions(id)).length));
      const sent = await Promise.all(
        plans.map((plan) =>
          Promise.all(
            plan.burst.map(async ({ action, afterMs }): Promise<Sent> => {
              const requestId = `mix-${randomBytes(6).toString("hex")}`;
              if (afterMs) await new Promise((r) => setTimeout(r, afterMs));
              return { action, requestId, res: await s.act(plan.id, action, { "x-request-id": requestId }) };
            }),
          ),
        ),
      );
      for (const [i, plan] of plans.entries()) {
        const final = (await s.settle(plan.id)).state as State;
        mixed.push({
          id: plan.id,
          initial: plan.initial,
          logBefore: logBefore[i] ?? 0,
          sent: sent[i] ?? [],
          log: (await s.transitions(plan.id)).slice(logBefore[i]),
          final,
        });
      }
    });

    it("every answer is 202 in the action's timed state or 409 naming a state that refuses it", () => {
      for (const m of mixed) {
        for (const { action, res } of m.sent) {
          const what = `${action} on ${m.id} ${context}: ${JSON.stringify(res.body)}`;
          expect([202, 409], what).toContain(res.status);
          if (res.status === 202) {
            expect(res.body.state, what).toBe(via[action]);
          } else {
            expectRefused(res, res.body.state);
            expect(allowedFrom[res.body.state as State], what).not.toContain(action);
            // A state the server was really in during the burst.
            const visited = [m.initial, ...m.log.map((e) => e.to_state)];
            expect(visited, what).toContain(res.body.state);
          }
        }
      }
    });

    it("each accepted action is logged once, by the user, with its request id; refused ones not at all", () => {
      for (const m of mixed) {
        const users = m.log.filter((e) => e.actor === "user");
        const acceptedIds = m.sent.filter((x) => x.res.status === 202).map((x) => x.requestId);
        expect(users.map((e) => e.request_id).sort(), `${m.id} ${context}`).toEqual([...acceptedIds].sort());
        for (const e of users) {
          const sent = m.sent.find((x) => x.requestId === e.request_id);
          expect(e.to_state).toBe(via[sent?.action as Action]);
          expect(allowedFrom[e.from_state as State]).toContain(sent?.action);
        }
      }
    });

    it("the log chains from the state before the burst; each timed state completes once unless terminate cut it short", () => {
      for (const m of mixed) {
        const what = `${m.id} from ${m.initial} ${context}: ${JSON.stringify(m.log.map((e) => [e.from_state, e.to_state, e.actor]))}`;
        expect(m.log[0]?.from_state ?? m.initial, what).toBe(m.initial);
        for (let i = 1; i < m.log.length; i++)
          expect(m.log[i]?.from_state, what).toBe(m.log[i - 1]?.to_state);
        const accepted = m.sent.filter((x) => x.res.status === 202).length;
        let completions = 0;
        let interrupted = 0;
        for (const [i, e] of m.log.entries()) {
          const to = e.to_state as State;
          if (e.actor === "system") {
            completions++;
            expect(endOf[e.from_state as State], what).toBe(to);
            // The completion carries the request id of the action that started the timed state.
            expect(e.request_id, what).toBe(m.log[i - 1]?.request_id);
          } else if (endOf[to]) {
            const next = m.log[i + 1];
            expect(next, what).toBeDefined();
            if (next?.actor === "user") {
              interrupted++;
              expect(next.to_state, what).toBe("terminating");
            }
          }
        }
        expect(m.log.length, what).toBe(accepted + completions);
        expect(completions, what).toBe(accepted - interrupted);
      }
    });

    it("the final state follows from the answers: terminated if a terminate won, else the last accepted action's end", () => {
      for (const m of mixed) {
        const what = `${m.id} ${context}: ${JSON.stringify(m.sent.map((x) => [x.action, x.res.status]))}`;
        const wins = m.sent.filter((x) => x.res.status === 202);
        let expected: State = m.initial;
        if (wins.some((x) => x.action === "terminate")) expected = "terminated";
        else if (wins.length > 0) {
          const last = m.log.filter((e) => e.actor === "user").at(-1);
          const action = wins.find((x) => x.requestId === last?.request_id)?.action as Action;
          expected = endOf[via[action]] as State;
        }
        expect(m.final, what).toBe(expected);
        expect(m.log.at(-1)?.to_state ?? m.initial, what).toBe(m.final);
      }
      // A mix that never produced a terminate, a refusal or a second accepted action tests little.
      expect(
        mixed.some((m) => m.final === "terminated"),
        context,
      ).toBe(true);
      expect(
        mixed.some((m) => m.final !== "terminated"),
        context,
      ).toBe(true);
      expect(
        mixed.flatMap((m) => m.sent).some((x) => x.res.status === 409),
        context,
      ).toBe(true);
    });

    it("ipam takes back the address of each terminated server once, and only theirs", async () => {
      const terminated = mixed.filter((m) => m.final === "terminated");
      const alive = count - terminated.length;
      await eventually(
        async () => ((await s.poolUsed(mixRegion)) === alive ? true : undefined),
        10_000,
        "releases",
      );
      for (const m of mixed) {
        const released = await eventually(
          async () => {
            const n = (await s.log(m.id)).filter((e) => e.type === "ip.released").length;
            return m.final !== "terminated" || n > 0 ? n : undefined;
          },
          10_000,
          `ip.released for ${m.id}`,
        );
        expect(released, `${m.id} ${context}`).toBe(m.final === "terminated" ? 1 : 0);
      }
    });
  });
});
