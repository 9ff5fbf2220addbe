import { deadLetterStreamName, eventStreamName } from "@cloudsim/shared";
import { type NatsClusterHandle, startNatsCluster } from "@cloudsim/shared/testing";
import { jetstreamManager } from "@nats-io/jetstream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { busOf, client, eventually, type Stack, startStack } from "./harness.ts";

/**
 * The system on a three-node JetStream cluster (three nats-servers on this host, routed
 * together), every stream kept on all three (STREAM_REPLICAS=3), the services given every
 * node's URL, in the test's process. The faults run on hosts of their own: cluster-hosts.test.ts.
 */
describe("on a three-node NATS cluster", () => {
  let cluster: NatsClusterHandle;
  let stack: Stack;

  beforeAll(async () => {
    cluster = await startNatsCluster(3);
    stack = await startStack({
      env: { NATS_URL: cluster.url, STREAM_REPLICAS: "3", PROVISION_DELAY: "100ms", LOG_LEVEL: "error" },
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

  it("provisions a server that runs, through the cluster", async () => {
    const api = client(stack.url);
    const created = await api.post("/servers", { region: "ap-southeast-1", type: "t2.nano" });
    expect(created.status).toBe(201);
    await eventually(
      async () =>
        (await api.get(`/servers/${created.body.id}`)).body.state === "running" ? true : undefined,
      10_000,
      "running",
    );
  });
});
