import { type ChildProcess, execFile, execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { createServer, type Server } from "node:net";
import { promisify } from "node:util";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startNatsCluster } from "./nats-cluster.ts";
import { createTestNetwork, type NetHost, netnsAvailable, type TestNetwork } from "./netns.ts";
import { portAnswers } from "./ports.ts";

const PORT = 7000;
const servers: ChildProcess[] = [];

/**
 * A TCP server inside `host` on PORT that answers every connection with the host's name; a
 * client gone first (portAnswers hangs up at once) must not kill it with an unhandled ECONNRESET.
 */
async function serveName(host: NetHost): Promise<void> {
  const script = `require("net").createServer((s) => s.on("error", () => {}).end(${JSON.stringify(host.name)}))
    .listen(${PORT}, "0.0.0.0", () => console.log("up"))`;
  const [command = "", ...args] = [...host.wrap, process.execPath, "-e", script];
  const child = spawn(command, args, { stdio: ["ignore", "pipe", "inherit"] });
  servers.push(child);
  await once(child.stdout as NodeJS.ReadableStream, "data");
}

/**
 * What a client inside `host` reads from address:port, or "unreachable" after `timeoutMs`;
 * asynchronous, as this process's own servers and forwarders must keep answering meanwhile.
 */
async function callFrom(host: NetHost, address: string, port = PORT, timeoutMs = 3_000): Promise<string> {
  const script = `const s = require("net").connect(${port}, ${JSON.stringify(address)});
    let got = ""; s.on("data", (d) => (got += d)); s.on("end", () => { console.log(got); process.exit(0); });
    s.on("error", () => { console.log("unreachable"); process.exit(0); });
    setTimeout(() => { console.log("unreachable"); process.exit(0); }, ${timeoutMs});`;
  const [command = "", ...args] = [...host.wrap, process.execPath, "-e", script];
  const { stdout } = await promisify(execFile)(command, args, {
    encoding: "utf8",
    timeout: timeoutMs + 5_000,
  });
  return stdout.trim();
}

/** A server in this (root) namespace on `address`, answering with `reply`. */
async function rootServer(address: string, reply: string): Promise<{ server: Server; port: number }> {
  const server = createServer((s) => s.end(reply));
  server.listen(0, address);
  await once(server, "listening");
  const info = server.address();
  return { server, port: typeof info === "object" && info ? info.port : 0 };
}

const allNamespaces = () =>
  execFileSync("ip", ["netns", "list"], { encoding: "utf8" })
    .split("\n")
    .map((l) => l.split(" ")[0] ?? "");
const ownNamespaces = () => allNamespaces().filter((ns) => ns.startsWith(`cst-${process.pid}-`));
const ownRootLinks = () =>
  execFileSync("ip", ["-o", "link", "show"], { encoding: "utf8" })
    .split("\n")
    .filter((l) => l.includes(`cst${process.pid.toString(36)}n`));

describe.skipIf(!netnsAvailable())("test network of namespaces", () => {
  let net: TestNetwork<"a" | "b" | "c">;
  let a: NetHost;
  let b: NetHost;
  let c: NetHost;

  beforeAll(async () => {
    net = await createTestNetwork(["a", "b", "c"]);
    ({ a, b, c } = net.hosts);
    await Promise.all([a, b, c].map(serveName));
  }, 15_000);
  afterAll(async () => {
    for (const child of servers) child.kill("SIGKILL");
    await net?.destroy();
  });

  it("gives each host its own address, reachable from the others and from the root", async () => {
    expect(new Set([a.address, b.address, c.address, net.rootAddress]).size).toBe(4);
    expect(await callFrom(b, a.address)).toBe("a");
    expect(await callFrom(a, c.address)).toBe("c");
    expect(await portAnswers(PORT, b.address)).toBe(true);
    const root = await rootServer(net.rootAddress, "root");
    try {
      expect(await callFrom(c, net.rootAddress, root.port)).toBe("root");
    } finally {
      root.server.close();
    }
  });

  it("cut() unplugs a host from everyone, heal() plugs it back", async () => {
    await a.cut();
    try {
      expect(await callFrom(b, a.address, PORT, 500)).toBe("unreachable");
      expect(await callFrom(a, c.address, PORT, 500)).toBe("unreachable");
      expect(await portAnswers(PORT, a.address, 300)).toBe(false);
    } finally {
      await a.heal();
    }
    expect(await callFrom(b, a.address)).toBe("a");
    expect(await callFrom(c, a.address)).toBe("a");
    expect(await portAnswers(PORT, a.address)).toBe(true);
  });

  it("block() partitions a host from just the given addresses", async () => {
    await a.block([b.address]);
    try {
      expect(await callFrom(b, a.address, PORT, 500)).toBe("unreachable");
      expect(await callFrom(a, b.address, PORT, 500)).toBe("unreachable");
      expect(await callFrom(c, a.address)).toBe("a");
    } finally {
      await a.unblock([b.address]);
    }
    expect(await callFrom(b, a.address)).toBe("a");
  });

  it("forward() lets a host reach a server on the root namespace's 127.0.0.1", async () => {
    const local = await rootServer("127.0.0.1", "local");
    const forwarder = await net.forward(local.port);
    try {
      expect(forwarder.host).toBe(net.rootAddress);
      expect(await callFrom(b, forwarder.host, forwarder.port)).toBe("local");
    } finally {
      await forwarder.close();
      local.server.close();
    }
    expect(await callFrom(b, forwarder.host, forwarder.port, 500)).toBe("unreachable");
  });

  it("destroy() leaves no namespace or link behind, and may be called twice", async () => {
    const before = { namespaces: ownNamespaces(), links: ownRootLinks() };
    const other = await createTestNetwork(["x", "y"]);
    expect(ownNamespaces()).toHaveLength(before.namespaces.length + 3);
    expect(ownRootLinks()).toHaveLength(before.links.length + 1);
    await other.destroy();
    await other.destroy();
    expect(ownNamespaces()).toEqual(before.namespaces);
    expect(ownRootLinks()).toEqual(before.links);
  });

  it("removes the namespaces of a test process that died without destroying them", async () => {
    const dead = spawn(process.execPath, ["-e", ""]);
    await once(dead, "exit");
    const stale = `cst-${dead.pid}-1-sw`;
    execFileSync("ip", ["netns", "add", stale]);
    await (await createTestNetwork([])).destroy();
    expect(allNamespaces()).not.toContain(stale);
  });
});

describe.skipIf(!netnsAvailable())("a NATS cluster on three hosts", () => {
  it("routes three nodes over the hosts' addresses, and JetStream answers through one", async () => {
    const net = await createTestNetwork(["nats1", "nats2", "nats3"]);
    const hosts = Object.values(net.hosts);
    try {
      const cluster = await startNatsCluster(3, 20_000, { hosts });
      try {
        expect(cluster.nodes.map((n) => new URL(n.url).hostname)).toEqual(hosts.map((h) => h.address));
        const nc = await connect({ servers: cluster.nodes[2]?.url ?? "" });
        try {
          const info = await (await jetstreamManager(nc)).getAccountInfo();
          expect(info.limits).toBeDefined();
        } finally {
          await nc.close();
        }
        const monitor = <T>(node: number, path: string) =>
          fetch(`${cluster.nodes[node]?.monitorUrl}${path}`).then((r) => r.json() as Promise<T>);
        expect((await monitor<{ num_routes: number }>(1, "/routez")).num_routes).toBe(2);
        // Killed outright and back: a new process (its start time moves) on the same host address.
        const { start } = await monitor<{ start: string }>(1, "/varz");
        await cluster.nodes[1]?.restart(0, { signal: "SIGKILL" });
        expect((await monitor<{ start: string }>(1, "/varz")).start).not.toBe(start);
      } finally {
        await cluster.stop();
      }
    } finally {
      await net.destroy();
    }
  }, 30_000);
});
