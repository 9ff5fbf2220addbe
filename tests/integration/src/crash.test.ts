import { randomBytes, randomUUID } from "node:crypto";
import { createTestDatabase, type TestDatabase } from "@cloudsim/shared/testing";
import { jetstream } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { client, eventually, fastEnv } from "./harness.ts";
import { type ServiceProcess, startProcess } from "./processes.ts";

/**
 * lifecycle and ipam as OS processes, killed with SIGKILL at the worst moments.
 */
describe("crashes", () => {
  let database: TestDatabase;
  let env: Record<string, string | undefined>;
  const processes: ServiceProcess[] = [];
  let ipam: ServiceProcess;
  let gateway: ServiceProcess;
  let api: ReturnType<typeof client>;

  const start = async (name: ServiceProcess["name"], extra: Record<string, string> = {}) => {
    const p = await startProcess(name, { ...env, ...extra });
    processes.push(p);
    return p;
  };
  const state = async (id: string, wanted: string, timeoutMs = 10_000) =>
    eventually(
      async () => {
        const r = await api.get(`/servers/${id}`);
        return r.body.state === wanted ? r.body : undefined;
      },
      timeoutMs,
      `server ${id} ${wanted}`,
    );
  const used = async (region: string) =>
    (await api.get("/ipam/pools")).body.items.find((p: { region: string }) => p.region === region)
      .used as number;
  const logTypes = async (id: string) =>
    (await api.get(`/servers/${id}/logs?limit=100`)).body.items.map(
      (e: { type: string }) => e.type,
    ) as string[];

  beforeAll(async () => {
    database = await createTestDatabase(inject("postgresAdminUrl"));
    env = {
      ...fastEnv,
      LOG_LEVEL: "warn",
      STOP_DELAY: "300ms",
      TERMINATE_DELAY: "300ms",
      DATABASE_URL: database.url,
      NATS_URL: inject("natsUrl"),
      NATS_SUBJECT_PREFIX: `t${randomBytes(5).toString("hex")}.`,
    };
    ipam = await start("ipam");
    gateway = await start("gateway");
    api = client(`http://127.0.0.1:${gateway.port}`);
  });
  afterAll(async () => {
    for (const p of processes) await p.stop();
    await database?.drop();
  });

  it("a transition in flight when lifecycle dies completes after it restarts", async () => {
    const lifecycle = await start("lifecycle", { STOP_DELAY: "2s" });
    const created = await api.post("/servers", { region: "us-east-1", type: "t2.micro" });
    await state(created.body.id, "running");
    const stop = await api.post(`/servers/${created.body.id}/action`, { action: "stop" });
    expect(stop.body.state).toBe("stopping");
    await lifecycle.kill();
    const restarted = await start("lifecycle");
    const stopped = await state(created.body.id, "stopped");
    expect(stopped.ip_address).toBe(created.body.ip_address);
    const log = await api.get(`/servers/${created.body.id}/logs`);
    expect(log.body.items[0]).toMatchObject({
      from_state: "stopping",
      to_state: "stopped",
      request_id: stop.headers.get("x-request-id"),
    });
    await restarted.stop();
  });

  it("an event committed but not yet published when lifecycle dies reaches ipam exactly once", async () => {
    // The relay publishes at start and then not for an hour: what is committed after stays in the outbox.
    const lifecycle = await start("lifecycle", { OUTBOX_INTERVAL: "1h" });
    const created = await api.post("/servers", { region: "us-west-2", type: "t2.micro" });
    await state(created.body.id, "running");
    expect(await used("us-west-2")).toBe(1);
    await api.post(`/servers/${created.body.id}/action`, { action: "terminate" });
    await state(created.body.id, "terminated");
    await lifecycle.kill();

    const db = new pg.Client({ connectionString: database.url });
    await db.connect();
    try {
      const pending = await db.query("SELECT subject, payload FROM lifecycle.outbox ORDER BY seq");
      expect(pending.rows.map((r) => r.subject)).toContain("events.server.terminated");
      expect(await used("us-west-2")).toBe(1);

      const restarted = await start("lifecycle");
      await eventually(
        async () => ((await used("us-west-2")) === 0 ? true : undefined),
        10_000,
        "address released",
      );
      await eventually(async () =>
        (await logTypes(created.body.id)).includes("ip.released") ? true : undefined,
      );

      // The same event again, under a new message id so the stream's duplicate window lets it
      // through: ipam must recognise the event id and change nothing.
      const terminated = pending.rows.find((r) => r.subject === "events.server.terminated");
      const nc = await connect({ servers: inject("natsUrl") });
      await jetstream(nc).publish(
        `${env.NATS_SUBJECT_PREFIX}events.server.terminated`,
        JSON.stringify(terminated?.payload),
        {
          msgID: randomUUID(),
        },
      );
      await nc.drain();
      const processed = async () =>
        (
          await db.query("SELECT count(*)::int AS n FROM ipam.processed_events WHERE event_id = $1", [
            terminated?.payload.id,
          ])
        ).rows[0].n;
      expect(await processed()).toBe(1);
      await new Promise((r) => setTimeout(r, 1_000));
      expect(await processed()).toBe(1);
      expect((await logTypes(created.body.id)).filter((t) => t === "ip.released")).toHaveLength(1);
      const outboxLeft = await db.query("SELECT count(*)::int AS n FROM lifecycle.outbox");
      expect(outboxLeft.rows[0].n).toBe(0);
      await restarted.stop();
    } finally {
      await db.end();
    }
  });

  it("ipam killed while servers end releases their addresses when it is back", async () => {
    const lifecycle = await start("lifecycle");
    const ids: string[] = [];
    for (let i = 0; i < 5; i++)
      ids.push((await api.post("/servers", { region: "eu-west-1", type: "t2.nano" })).body.id);
    for (const id of ids) await state(id, "running");
    await ipam.kill();
    for (const id of ids) expect((await api.call("DELETE", `/servers/${id}`)).status).toBe(202);
    for (const id of ids) await state(id, "terminated");
    ipam = await start("ipam");
    await eventually(
      async () => ((await used("eu-west-1")) === 0 ? true : undefined),
      10_000,
      "all released",
    );
    for (const id of ids) {
      await eventually(async () => ((await logTypes(id)).includes("ip.released") ? true : undefined));
      expect((await logTypes(id)).filter((t) => t === "ip.released")).toHaveLength(1);
    }
    await lifecycle.stop();
  });
});
