import { expect } from "vitest";
import { type Answer, type client, eventually } from "./harness.ts";

export type State =
  | "provisioning"
  | "running"
  | "stopping"
  | "stopped"
  | "starting"
  | "rebooting"
  | "terminating"
  | "terminated"
  | "error";
export type Action = "start" | "stop" | "reboot" | "terminate";

export const actions: readonly Action[] = ["start", "stop", "reboot", "terminate"];

/** The design table, written out here rather than imported, so the tests check the service against it. */
export const allowedFrom: Record<State, Action[]> = {
  provisioning: ["terminate"],
  running: ["stop", "reboot", "terminate"],
  stopping: ["terminate"],
  stopped: ["start", "terminate"],
  starting: ["terminate"],
  rebooting: ["terminate"],
  terminating: [],
  terminated: [],
  error: ["terminate"],
};

/** The timed state each action goes through, and where that state ends by itself. */
export const via: Record<Action, State> = {
  start: "starting",
  stop: "stopping",
  reboot: "rebooting",
  terminate: "terminating",
};
export const endOf: Partial<Record<State, State>> = {
  provisioning: "running",
  starting: "running",
  stopping: "stopped",
  rebooting: "running",
  terminating: "terminated",
};
export const timedStates = new Set<State>(Object.keys(endOf) as State[]);

export interface LogEntry {
  id: string;
  at: string;
  type: string;
  message: string;
  from_state: State | null;
  to_state: State | null;
  actor: string;
  request_id: string | null;
  trace_id: string | null;
}

/** A problem+json answer with this status and code, whose request_id is the one in the header. */
export function expectProblem(res: Answer, status: number, code: string) {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.headers.get("content-type")).toMatch(/^application\/problem\+json/);
  expect(res.body).toMatchObject({ status, code, detail: expect.any(String) });
  expect(res.body.request_id).toBe(res.headers.get("x-request-id"));
}

/** A 400 whose `fields` name `field`. */
export function expectInvalidField(res: Answer, field: string | RegExp) {
  expectProblem(res, 400, "VALIDATION");
  const fields: string[] = (res.body.fields ?? []).map((f: { field: string }) => f.field);
  if (typeof field === "string") expect(fields, JSON.stringify(res.body)).toContain(field);
  else
    expect(
      fields.some((f) => field.test(f)),
      JSON.stringify(res.body),
    ).toBe(true);
}

/** A 409 CONFLICT for an action refused in `state`, naming exactly what is allowed there. */
export function expectRefused(res: Answer, state: State) {
  expectProblem(res, 409, "CONFLICT");
  expect(res.body.state, JSON.stringify(res.body)).toBe(state);
  expect(res.body.allowed_actions).toEqual(allowedFrom[state]);
}

/** Server-level helpers over the gateway client. */
export function servers(api: ReturnType<typeof client>) {
  const get = async (id: string) => {
    const res = await api.get(`/servers/${id}`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body;
  };
  const helpers = {
    get,
    async provision(
      body: Record<string, unknown> = { region: "us-east-1", type: "t2.micro" },
      headers?: Record<string, string>,
    ) {
      const res = await api.post("/servers", body, headers);
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      expect(res.body.state).toBe("provisioning");
      return res.body;
    },
    act: (id: string, action: string, headers?: Record<string, string>) =>
      api.post(`/servers/${id}/action`, { action }, headers),
    remove: (id: string, headers?: Record<string, string>) =>
      api.call("DELETE", `/servers/${id}`, undefined, headers),
    /** Polls until the server is in `state`; fails at once when it ends somewhere else. */
    until: (id: string, state: State, timeoutMs = 10_000) =>
      eventually(
        async () => {
          const server = await get(id);
          if (server.state === state) return server;
          if (!timedStates.has(server.state) && server.state !== state)
            throw new Error(`server ${id} settled in ${server.state}, expected ${state}`);
          return undefined;
        },
        timeoutMs,
        `server ${id} ${state}`,
      ),
    /** Polls until the server is in a state that waits for a user. */
    settle: (id: string, timeoutMs = 10_000) =>
      eventually(
        async () => {
          const server = await get(id);
          return timedStates.has(server.state) ? undefined : server;
        },
        timeoutMs,
        `server ${id} settled`,
      ),
    /** The whole log, oldest first. */
    async log(id: string): Promise<LogEntry[]> {
      const entries: LogEntry[] = [];
      let cursor: string | null = null;
      do {
        const path: string = `/servers/${id}/logs?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
        const res = await api.get(path);
        expect(res.status, JSON.stringify(res.body)).toBe(200);
        entries.push(...res.body.items);
        cursor = res.body.next_cursor;
      } while (cursor);
      return entries.reverse();
    },
    /** The state.changed entries, oldest first. */
    async transitions(id: string): Promise<LogEntry[]> {
      return (await helpers.log(id)).filter((e) => e.type === "state.changed");
    },
    async poolUsed(region: string): Promise<number> {
      const res = await api.get("/ipam/pools");
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      const pool = res.body.items.find((p: { region: string }) => p.region === region);
      expect(pool, `pool ${region}`).toBeDefined();
      return pool.used;
    },
  };
  return helpers;
}

/** Each state.changed entry starts where the previous one ended. */
export function expectChained(transitions: LogEntry[]) {
  expect(transitions[0]?.from_state ?? null).toBeNull();
  for (let i = 1; i < transitions.length; i++) {
    expect(
      transitions[i]?.from_state,
      `entry ${i} of ${JSON.stringify(transitions.map((t) => [t.from_state, t.to_state]))}`,
    ).toBe(transitions[i - 1]?.to_state);
  }
}

/** [from, to, actor, request_id] of each entry, for whole-log comparisons. */
export const steps = (entries: LogEntry[]) =>
  entries.map((e) => [e.from_state, e.to_state, e.actor, e.request_id] as const);
