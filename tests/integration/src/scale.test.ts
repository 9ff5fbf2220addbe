import { expect, it } from "vitest";
import { allPages, client, eventually, fastEnv, useStack } from "./harness.ts";

/**
 * 1,000 servers driven through start, stop and terminate by 50 concurrent clients, against
 * two replicas of every service.
 */
const servers = 1_000;
const clients = 50;
const region = "us-west-2";

const pools = (fastEnv.IPAM_POOLS ?? "").replace(/us-west-2=[^,]+/, "us-west-2=10.1.0.0/21");
const ctx = useStack({
  env: {
    IPAM_POOLS: pools,
    PROVISION_DELAY: "100ms",
    START_DELAY: "100ms",
    STOP_DELAY: "100ms",
    TERMINATE_DELAY: "100ms",
    LOG_LEVEL: "warn",
    DB_POOL_MAX: "5",
  },
  replicas: { ipam: 2, lifecycle: 2, gateway: 2 },
});

type Api = ReturnType<typeof client>;
type LogEntry = { type: string; from_state: string | null; to_state: string | null };

async function until(api: Api, id: string, state: string) {
  return eventually(
    async () => {
      const r = await api.get(`/servers/${id}`);
      return r.body.state === state ? r.body : undefined;
    },
    30_000,
    `${id} ${state}`,
  );
}

/** One client: provisions its servers, stops, starts and (for two in three) terminates each. */
async function drive(api: Api, count: number, offset: number): Promise<Map<string, string>> {
  const told = new Map<string, string>();
  for (let i = 0; i < count; i++) {
    const created = await api.post("/servers", { region, type: "t2.nano", name: `scale-${offset + i}` });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    await until(api, id, "running");
    expect((await api.post(`/servers/${id}/action`, { action: "stop" })).status).toBe(202);
    await until(api, id, "stopped");
    expect((await api.post(`/servers/${id}/action`, { action: "start" })).status).toBe(202);
    await until(api, id, "running");
    if ((offset + i) % 3 !== 0) {
      const terminated = await api.call("DELETE", `/servers/${id}`);
      expect(terminated.status).toBe(202);
      told.set(id, "terminated");
    } else {
      told.set(id, "running");
    }
  }
  return told;
}

it(`drives ${servers} servers through their lifecycle with two replicas of each service`, async () => {
  const gateways = ctx.stack.services
    .filter((s) => s.name === "gateway")
    .map((s) => client(`http://127.0.0.1:${s.running.port}`));
  expect(gateways).toHaveLength(2);
  const perClient = servers / clients;
  const results = await Promise.all(
    Array.from({ length: clients }, (_, c) => drive(gateways[c % 2] as Api, perClient, c * perClient)),
  );
  const told = new Map(results.flatMap((m) => [...m]));
  expect(told.size).toBe(servers);

  const api = gateways[0] as Api;
  // Final states match what each client was told.
  for (const [id, state] of told) await until(api, id, state);
  const running = (await allPages(api, `region=${region}`, 100)).flatMap((p) => p.ids);
  expect(new Set(running)).toEqual(new Set([...told].filter(([, s]) => s === "running").map(([id]) => id)));

  // Every terminated server's address is free: the pool holds exactly the running servers' addresses.
  await eventually(
    async () => {
      const pools = await api.get("/ipam/pools");
      const pool = pools.body.items.find((p: { region: string }) => p.region === region);
      return pool.used === running.length ? true : undefined;
    },
    20_000,
    "addresses of terminated servers free",
  );

  // Each server's log reads in order: every transition starts where the previous one ended.
  for (const [id, state] of told) {
    const entries: LogEntry[] = await eventually(async () => {
      const log = await api.get(`/servers/${id}/logs?limit=100`);
      const items = (log.body.items as LogEntry[]).reverse();
      return state === "running" || items.some((e) => e.type === "ip.released") ? items : undefined;
    });
    const transitions = entries.filter((e) => e.type === "state.changed");
    expect(transitions.map((e) => e.to_state)).toEqual(
      state === "running"
        ? ["provisioning", "running", "stopping", "stopped", "starting", "running"]
        : [
            "provisioning",
            "running",
            "stopping",
            "stopped",
            "starting",
            "running",
            "terminating",
            "terminated",
          ],
    );
    for (let i = 1; i < transitions.length; i++) {
      expect(transitions[i]?.from_state).toBe(transitions[i - 1]?.to_state);
    }
    expect(entries.filter((e) => e.type === "ip.released")).toHaveLength(state === "terminated" ? 1 : 0);
  }
}, 120_000);
