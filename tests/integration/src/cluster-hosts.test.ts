import { randomBytes } from "node:crypto";
import { eventStreamName } from "@cloudsim/shared";
import {
  createTestDatabase,
  createTestNetwork,
  type NatsClusterHandle,
  type NatsServerHandle,
  netnsAvailable,
  startNatsCluster,
  type TestDatabase,
  type TestNetwork,
} from "@cloudsim/shared/testing";
import { type JetStreamManager, jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import {
  accountForEverything,
  driveTraffic,
  FAULT_RATE,
  freeAddresses,
  printFigures,
  streamProgress,
  type Traffic,
} from "./cluster-faults.ts";
import { client, eventually, fastEnv, sample } from "./harness.ts";
import { type ServiceProcess, startProcess } from "./processes.ts";

/**
 * Three nats-server nodes and the services on hosts of their own (network namespaces joined by
 * a bridge): the services reach Postgres through a forwarder on the test's own address. Each
 * fault runs under traffic from several clients, and afterwards every server, address, log
 * and bill is accounted for.
 */
describe.skipIf(!netnsAvailable())("the services and a three-node NATS cluster on hosts of their own", () => {
  const region = "eu-central-1";
  const hostNames = ["nats1", "nats2", "nats3", "gateway", "services", "lifecycle2"] as const;
  let net: TestNetwork<(typeof hostNames)[number]>;
  let cluster: NatsClusterHandle;
  let database: TestDatabase;
  const processes: ServiceProcess[] = [];
  let lifecycle2: ServiceProcess;
  let api: ReturnType<typeof client>;
  const prefix = `t${randomBytes(5).toString("hex")}.`;
  const stream = eventStreamName({ prefix });

  beforeAll(async () => {
    net = await createTestNetwork([...hostNames]);
    const { hosts } = net;
    cluster = await startNatsCluster(3, 30_000, { hosts: [hosts.nats1, hosts.nats2, hosts.nats3] });
    database = await createTestDatabase(inject("postgresAdminUrl"));
    const databaseUrl = new URL(database.url);
    const postgres = await net.forward(Number(databaseUrl.port || 5432), databaseUrl.hostname);
    databaseUrl.hostname = postgres.host;
    databaseUrl.port = String(postgres.port);
    const env = {
      ...fastEnv,
      DATABASE_URL: databaseUrl.toString(),
      NATS_URL: cluster.url,
      NATS_SUBJECT_PREFIX: prefix,
      STREAM_REPLICAS: "3",
      // A cut link is noticed in about two seconds, a silent node given up on in one, and a
      // delivery lost with it comes again in three.
      NATS_PING_INTERVAL: "1s",
      NATS_CONNECT_TIMEOUT: "1s",
      EVENT_ACK_WAIT: "3s",
      // Postgres lets go of the rows a cut-off replica had locked this soon: longer than
      // REQUEST_TIMEOUT, which an outbox relay may wait for a publish inside its transaction.
      DB_IDLE_IN_TRANSACTION_TIMEOUT: "4s",
      DB_CONNECT_TIMEOUT: "2s",
      PROVISION_DELAY: "100ms",
      TERMINATE_DELAY: "100ms",
      REQUEST_TIMEOUT: "3s",
      IP_CONFIRM_TIMEOUT: "3s",
      IP_RECONCILE_INTERVAL: "200ms",
      BILLING_RATE: FAULT_RATE,
      LOG_LEVEL: "warn",
    };
    const start = async (name: ServiceProcess["name"], host: (typeof hostNames)[number]) => {
      const started = await startProcess(name, env, { host: hosts[host] });
      processes.push(started);
      return started;
    };
    const [, , , , gateway, second] = await Promise.all([
      start("lifecycle", "services"),
      start("ipam", "services"),
      start("billing", "services"),
      start("reaper", "services"),
      start("gateway", "gateway"),
      start("lifecycle", "lifecycle2"),
    ]);
    lifecycle2 = second;
    api = client(`http://${gateway.host}:${gateway.port}`);
  }, 120_000);
  afterAll(async () => {
    await Promise.all(processes.map((p) => p.stop()));
    await cluster?.stop();
    await database?.drop();
    await net?.destroy();
  });

  /** A client of JetStream through one node: the watcher of a fault, on a node the fault spares. */
  const watchThrough = async (node: NatsServerHandle) => {
    const nc = await connect({ servers: node.url });
    // `probe` waits a short while per question: the stream's leader answers, a cut-off one never does.
    return { nc, jsm: await jetstreamManager(nc), probe: await jetstreamManager(nc, { timeout: 1_000 }) };
  };
  const leaderOf = async (jsm: JetStreamManager) =>
    (await jsm.streams.info(stream).catch(() => undefined))?.cluster?.leader;
  const nodeNamed = (name: string) => cluster.nodes[Number(name.slice(1)) - 1] as NatsServerHandle;
  const otherThan = (node: NatsServerHandle) => cluster.nodes.find((n) => n !== node) as NatsServerHandle;
  /** Once every replica of the events stream is back and current. */
  const replicasCurrent = async (jsm: JetStreamManager) => {
    const replicas = (await jsm.streams.info(stream).catch(() => undefined))?.cluster?.replicas;
    return replicas?.length === 2 && replicas.every((r) => r.current && !r.offline) ? true : undefined;
  };

  type Watcher = Awaited<ReturnType<typeof watchThrough>>;
  /** The stream's progress, asked again while the cluster is still settling after a fault. */
  const progressOf = (watcher: Watcher) =>
    eventually(
      () => streamProgress(watcher.jsm, stream).catch(() => undefined),
      20_000,
      "the stream's progress",
    );

  /** Traffic with `fault` in it, everything accounted for after, and the figures printed. */
  const underTraffic = async (
    name: string,
    watcher: Watcher,
    opts: { durationMs: number; fault: () => Promise<void> },
  ): Promise<Traffic> => {
    const freeBefore = await freeAddresses(api, region);
    const before = await progressOf(watcher);
    const traffic = await driveTraffic(api, { region, clients: 6, faultAfterMs: 1_000, ...opts });
    // Answers that say what happened, that nothing could be done now (503), or that the outcome
    // is unknown (504: a request caught on a link that died); never a 500.
    expect(traffic.statuses.filter((s) => ![201, 202, 503, 504].includes(s))).toEqual([]);
    expect(traffic.firstMadeAfterFaultMs, "servers were made while the fault lasted").toBeDefined();
    const { settledMs } = await accountForEverything(api, { region, made: traffic.made, freeBefore });
    const after = await eventually(
      async () => {
        const progress = await progressOf(watcher);
        return Object.values(progress.consumers).every((c) => c.pending === 0) ? progress : undefined;
      },
      15_000,
      "every consumer caught up",
    );
    printFigures(
      name,
      traffic,
      {
        published: after.lastSeq - before.lastSeq,
        consumers: Object.fromEntries(
          Object.entries(after.consumers).map(([consumer, c]) => [
            consumer,
            {
              consumed: c.ackFloor - (before.consumers[consumer]?.ackFloor ?? 0),
              redelivered: c.redelivered,
            },
          ]),
        ),
      },
      settledMs,
    );
    return traffic;
  };

  it("keeps everything when the events stream's leader is killed, then restarted", async () => {
    const first = await watchThrough(cluster.nodes[0] as NatsServerHandle);
    const leader = (await eventually(() => leaderOf(first.probe), 10_000, "a leader")) as string;
    const victim = nodeNamed(leader);
    await first.nc.close();
    const watcher = await watchThrough(otherThan(victim));
    /** What the stream's leader was, asked every 250 ms while the node was down (none: no answer). */
    const seen = new Set<string>();
    let recoveredMs = 0;
    await underTraffic(`node ${leader} (the events stream's leader) killed, back after 2 s`, watcher, {
      durationMs: 5_000,
      fault: async () => {
        let down = true;
        const restarted = victim.restart(2_000, { signal: "SIGKILL" }).finally(() => {
          down = false;
        });
        while (down) {
          seen.add((await leaderOf(watcher.probe)) ?? "none");
          await new Promise((r) => setTimeout(r, 250));
        }
        await restarted;
        const back = Date.now();
        await eventually(() => replicasCurrent(watcher.probe), 20_000, `${leader} current again`);
        recoveredMs = Date.now() - back;
      },
    });
    console.log(
      `  ${leader} killed: leaders seen while it was down ${[...seen]}; every replica current ${recoveredMs} ms after the restart`,
    );
    // The fault was real: while the node was down the stream had no leader, or another one.
    expect(
      [...seen].some((name) => name !== leader),
      [...seen].join(),
    ).toBe(true);
    await watcher.nc.close();
  }, 90_000);

  it("keeps everything when the events stream's leader is cut off from the others for 10 s", async () => {
    const first = await watchThrough(cluster.nodes[0] as NatsServerHandle);
    const leader = (await eventually(() => leaderOf(first.probe), 10_000, "a leader")) as string;
    await first.nc.close();
    const victimHost = [net.hosts.nats1, net.hosts.nats2, net.hosts.nats3][Number(leader.slice(1)) - 1];
    const watcher = await watchThrough(otherThan(nodeNamed(leader)));
    let leaderDuring: string | undefined;
    let recoveredMs = 0;
    await underTraffic(`node ${leader} (the events stream's leader) cut off for 10 s`, watcher, {
      durationMs: 12_000,
      fault: async () => {
        await victimHost?.cut();
        const cutAt = Date.now();
        try {
          // The other two elect a leader of their own while the link is cut.
          while (Date.now() - cutAt < 10_000) {
            const now = await leaderOf(watcher.probe);
            if (now && now !== leader && leaderDuring === undefined) leaderDuring = now;
            await new Promise((r) =>
              setTimeout(r, Math.max(0, Math.min(250, 10_000 - (Date.now() - cutAt)))),
            );
          }
        } finally {
          await victimHost?.heal();
        }
        const healed = Date.now();
        await eventually(() => replicasCurrent(watcher.probe), 30_000, `${leader} current again`);
        recoveredMs = Date.now() - healed;
      },
    });
    console.log(
      `  ${leader} cut off: ${leaderDuring} led meanwhile; every replica current ${recoveredMs} ms after the heal`,
    );
    expect(leaderDuring).toBeDefined();
    await watcher.nc.close();
  }, 120_000);

  it("a lifecycle replica's host cut off: the other replica does its work, and nothing happens twice", async () => {
    const served = async () =>
      sample(
        await (await fetch(`http://${lifecycle2.host}:${lifecycle2.port}/metrics`)).text(),
        "cloudsim_nats_requests_total",
      );
    const watcher = await watchThrough(cluster.nodes[0] as NatsServerHandle);
    // Reads go to either replica (a NATS queue group): some of these reach this one.
    const read = () => Promise.all(Array.from({ length: 20 }, () => api.get("/servers?limit=1")));
    await read();
    const servedBefore = await served();
    let servedAtHeal = 0;
    const host = net.hosts.lifecycle2;
    await underTraffic("a lifecycle replica's host cut off (from NATS and Postgres) for 6 s", watcher, {
      durationMs: 8_000,
      fault: async () => {
        await host?.cut();
        try {
          await new Promise((r) => setTimeout(r, 6_000));
        } finally {
          await host?.heal();
        }
        servedAtHeal = await served();
      },
    });
    // The replica was working before the cut (so it held requests and timers to lose), and it
    // serves again after it: its requests were taken by the other while it was away.
    expect(servedBefore).toBeGreaterThan(0);
    await eventually(
      async () => {
        await read();
        return (await served()) > servedAtHeal ? true : undefined;
      },
      15_000,
      "the replica serves again",
    );
    await watcher.nc.close();
  }, 120_000);
});
