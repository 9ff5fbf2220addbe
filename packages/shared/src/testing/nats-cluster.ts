import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { type NatsServerHandle, startNatsServer } from "./nats-server.ts";
import type { NetHost } from "./netns.ts";
import { freePort } from "./ports.ts";
export interface NatsClusterHandle {
  /** Every node's client URL, comma-separated, as NATS_URL takes them. */
  url: string;
  nodes: NatsServerHandle[];
  stop(): Promise<void>;
}

/**
 * `size` nats-servers, routed into one JetStream cluster (each with the services' users and
 * permissions, as startNatsServer), resolved once JetStream answers through the first node (its
 * meta leader elected), within `readyMs`. On this host's 127.0.0.1, or node i on `hosts[i]`.
 */
export async function startNatsCluster(
  size = 3,
  readyMs = 30_000,
  options: { hosts?: NetHost[] } = {},
): Promise<NatsClusterHandle> {
  const hosts = Array.from({ length: size }, (_, i) => options.hosts?.[i]);
  const routePorts = await Promise.all(hosts.map(() => freePort()));
  const routes = routePorts.map((port, i) => `${hosts[i]?.address ?? "127.0.0.1"}:${port}`);
  const nodes = await Promise.all(
    routePorts.map((routePort, i) =>
      startNatsServer({
        host: hosts[i],
        cluster: { name: `n${i + 1}`, routePort, peers: routes.filter((_, j) => j !== i) },
      }),
    ),
  );
  const url = nodes.map((n) => n.url).join(",");
  const stop = async () => {
    await Promise.all(nodes.map((n) => n.stop()));
  };
  try {
    await jetstreamReady(nodes[0]?.url ?? "", readyMs);
  } catch (err) {
    await stop();
    throw err;
  }
  return { url, nodes, stop };
}

/** Waits until JetStream answers on `url` (a cluster has elected its meta leader). */
async function jetstreamReady(url: string, timeoutMs: number): Promise<void> {
  const nc = await connect({ servers: url });
  try {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const ready = await jetstreamManager(nc)
        .then((jsm) => jsm.getAccountInfo())
        .then(
          () => true,
          () => false,
        );
      if (ready) return;
      if (Date.now() > deadline) throw new Error(`JetStream did not answer on ${url} within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 250));
    }
  } finally {
    await nc.close();
  }
}
