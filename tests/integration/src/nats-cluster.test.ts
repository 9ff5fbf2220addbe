import { deadLetterStreamName, eventStreamName } from "@cloudsim/shared";
import { connectTestBus, type NatsClusterHandle, startNatsCluster } from "@cloudsim/shared/testing";
import { jetstreamManager } from "@nats-io/jetstream";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { allPages, busOf, client, eventually, type Stack, startStack } from "./harness.ts";

/**
 * The system on a three-node JetStream cluster (three nats-servers on this host, routed
 * together), every stream kept on all three (STREAM_REPLICAS=3), the services given every
 * node's URL.
 */
describe("on a three-node NATS cluster", () => {
  let cluster: NatsClusterHandle;
  let stack: Stack;
  const region = "ap-southeast-1";

  beforeAll(async () => {
    cluster = await startNatsCluster(3);
    stack = await startStack({
      env: {
        NATS_URL: cluster.url,
        STREAM_REPLICAS: "3",
        PROVISION_DELAY: "100ms",
        TERMINATE_DELAY: "100ms",
        REQUEST_TIMEOUT: "3s",
        IP_CONFIRM_TIMEOUT: "3s",
        IP_RECONCILE_INTERVAL: "200ms",
        LOG_LEVEL: "error",
      },
    });
  }, 90_000);
  afterAll(async () => {
    await stack?.stop();
    await cluster?.stop();
  });

  it("keeps the events and dead-letter streams on all three nodes", async () => {
    const bus = await busOf(stack);
    try {
      const jsm = await jetstreamManager(bus.nc);
      for (const name of [eventStreamName(bus), deadLetterStreamName(bus)]) {
        const info = await jsm.streams.info(name);
        expect(info.config.num_replicas, name).toBe(3);
        await eventually(
          async () => ((await jsm.streams.info(name)).cluster?.replicas?.length === 2 ? true : undefined),
          10_000,
          `${name} on a leader and two replicas`,
        );
      }
    } finally {
      await bus.close();
    }
  });

  it("loses no event and leaks no address when one node is killed and restarted during traffic", async () => {
    const api = client(stack.url);
    const pool = async () =>
      (await api.get("/ipam/pools")).body.items.find((p: { region: string }) => p.region === region);
    const freeBefore = (await pool()).free;
    const deadline = Date.now() + 4_000;
    const statuses: number[] = [];
    const made: string[] = [];
    const worker = async () => {
      while (Date.now() < deadline) {
        const created = await api.post("/servers", { region, type: "t2.nano" });
        statuses.push(created.status);
        if (created.status !== 201) {
          await new Promise((r) => setTimeout(r, 50));
          continue;
        }
        made.push(created.body.id);
        statuses.push((await api.call("DELETE", `/servers/${created.body.id}`)).status);
      }
    };
    // A node goes away for two seconds in the middle, then comes back on its own store.
    const fault = (async () => {
      await new Promise((r) => setTimeout(r, 1_000));
      await cluster.nodes[1]?.restart(2_000);
    })();
    // The fault is real: the events stream's leader sees the node drop out of its replicas
    // (asked through the first node, which stays up).
    const bus = await connectTestBus(cluster.nodes[0]?.url ?? "", {
      subjectPrefix: stack.env.NATS_SUBJECT_PREFIX ?? "",
    });
    const jsm = await jetstreamManager(bus.nc);
    let nodeMissed = false;
    const watch = (async () => {
      while (Date.now() < deadline) {
        const info = await jsm.streams.info(eventStreamName(bus)).catch(() => undefined);
        if (info?.cluster?.replicas?.some((r) => r.offline || !r.current)) nodeMissed = true;
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    await Promise.all([...Array.from({ length: 6 }, worker), fault, watch]);
    await bus.close();
    expect(nodeMissed, "a replica of the events stream went missing").toBe(true);
    // Only answers that say what happened, or that nothing could be done now.
    expect(statuses.filter((s) => ![201, 202, 503, 504].includes(s))).toEqual([]);
    expect(made.length).toBeGreaterThan(10);

    // Whatever the clients were told, every server that exists ends terminated, and its log
    // says so: no event was lost between lifecycle, ipam and billing.
    const live = (await allPages(api, `region=${region}`, 100)).flatMap((p) => p.ids);
    for (const id of live) await api.call("DELETE", `/servers/${id}`);
    await eventually(
      async () =>
        (await allPages(api, `region=${region}`, 100)).flatMap((p) => p.ids).length === 0 ? true : undefined,
      20_000,
      "every server terminated",
    );
    await eventually(
      async () => ((await pool()).free === freeBefore ? true : undefined),
      20_000,
      "every address back",
    ).catch(async (err) => {
      const db = new pg.Client({ connectionString: stack.database.url });
      await db.connect();
      const held = await db.query(
        "SELECT host(address) AS address, server_id, allocated_at, confirmed_at FROM ipam.addresses WHERE region = $1 AND server_id IS NOT NULL",
        [region],
      );

      await db.end();
      throw new Error(
        `${(err as Error).message}: ${freeBefore} free before, now ${JSON.stringify(await pool())}; held: ${JSON.stringify(held.rows)}`,
      );
    });
    for (const id of made.slice(0, 20)) {
      const logs = (await api.get(`/servers/${id}/logs?limit=100`)).body.items.map(
        (e: { type: string }) => e.type,
      );
      expect(logs, id).toContain("ip.released");
    }
  });
});
