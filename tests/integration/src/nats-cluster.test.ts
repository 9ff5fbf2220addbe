import { deadLetterStreamName, eventStreamName } from "@cloudsim/shared";
import { type NatsClusterHandle, startNatsCluster } from "@cloudsim/shared/testing";
import { jetstreamManager } from "@nats-io/jetstream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  accountForEverything,
  driveTraffic,
  FAULT_RATE,
  freeAddresses,
  printFigures,
  streamProgress,
} from "./cluster-faults.ts";
import { busOf, client, eventually, type Stack, startStack } from "./harness.ts";

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
        BILLING_RATE: FAULT_RATE,
        // A delivery lost with the killed node comes again this soon.
        EVENT_ACK_WAIT: "3s",
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

  it("loses no event and leaks no address when the events stream's leader is killed and restarted during traffic", async () => {
    const api = client(stack.url);
    const bus = await busOf(stack);
    const jsm = await jetstreamManager(bus.nc);
    const stream = eventStreamName(bus);
    const freeBefore = await freeAddresses(api, region);
    const before = await streamProgress(jsm, stream);
    // The node that leads the events stream: killing it makes the other two elect another.
    const leader = (await jsm.streams.info(stream)).cluster?.leader ?? "";
    const victim = cluster.nodes[Number(leader.slice(1)) - 1];
    expect(victim, `leader ${leader}`).toBeDefined();
    let leaderAfter = leader;
    const traffic = await driveTraffic(api, {
      region,
      clients: 6,
      durationMs: 5_000,
      faultAfterMs: 1_000,
      fault: async () => {
        await victim?.restart(2_000);
        leaderAfter = await eventually(
          async () => (await jsm.streams.info(stream).catch(() => undefined))?.cluster?.leader,
          10_000,
          "a leader of the events stream",
        );
      },
    });
    // The fault was real: the stream is led by another node now.
    expect(leaderAfter).not.toBe(leader);
    // Only answers that say what happened, or that nothing could be done now.
    expect(traffic.statuses.filter((s) => ![201, 202, 503, 504].includes(s))).toEqual([]);
    expect(traffic.made.length).toBeGreaterThan(10);

    const { settledMs } = await accountForEverything(api, { region, made: traffic.made, freeBefore });
    const after = await eventually(
      async () => {
        const progress = await streamProgress(jsm, stream);
        return Object.values(progress.consumers).every((c) => c.pending === 0) ? progress : undefined;
      },
      10_000,
      "every consumer caught up",
    ).catch(async (err) => {
      throw new Error(`${err.message}: ${JSON.stringify(await streamProgress(jsm, stream))}`);
    });
    await bus.close();
    printFigures(
      `events stream leader ${leader} killed for 2 s, ${leaderAfter} leads after`,
      traffic,
      {
        published: after.lastSeq - before.lastSeq,
        consumers: Object.fromEntries(
          Object.entries(after.consumers).map(([name, c]) => [
            name,
            { consumed: c.ackFloor - (before.consumers[name]?.ackFloor ?? 0), redelivered: c.redelivered },
          ]),
        ),
      },
      settledMs,
    );
  });
});
