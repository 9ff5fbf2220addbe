import { execFile, execFileSync } from "node:child_process";
import { type AddressInfo, createServer, type Socket, connect as tcpConnect } from "node:net";
import { promisify } from "node:util";

/**
 * Hosts of their own for integration tests: each a Linux network namespace on a private /24,
 * joined by a bridge in a "switch" namespace, so a test can cut one host's cable or partition
 * it from some peers while the others keep talking.
 */

const run = promisify(execFile);
/** Every `ip` call is bounded, so a wedged command fails the test instead of hanging it. */
const IP_TIMEOUT_MS = 5_000;
/** Namespaces of this helper are `cst-<pid>-<network>-<host>`: the pid lets a later run find leftovers of a dead one. */
const NS_PREFIX = "cst-";
/** The test network is 10.213.X.0/24, X chosen free in the root namespace. */
const NET_PREFIX = "10.213";

let networks = 0;
let available: boolean | undefined;

function ip(args: string[]): Promise<string> {
  return run("ip", args, { timeout: IP_TIMEOUT_MS }).then((r) => r.stdout);
}

/** Root, and this kernel lets us make (and remove) a network namespace; asked once per process. */
export function netnsAvailable(): boolean {
  available ??= process.getuid?.() === 0 && canMakeNamespace();
  return available;
}

function canMakeNamespace(): boolean {
  const probe = `${NS_PREFIX}${process.pid}-probe`;
  try {
    execFileSync("ip", ["netns", "add", probe], { stdio: "ignore", timeout: IP_TIMEOUT_MS });
    execFileSync("ip", ["netns", "del", probe], { stdio: "ignore", timeout: IP_TIMEOUT_MS });
    return true;
  } catch {
    return false;
  }
}

export interface NetHost {
  /** The name the test gave it, e.g. "nats1". */
  name: string;
  /** Its network namespace. */
  ns: string;
  /** Its IPv4 address on the test network. */
  address: string;
  /** argv prefix that runs a command inside this host: ["ip", "netns", "exec", ns]. */
  wrap: string[];
  /** Its link down from the switch side: nothing in or out, as a pulled cable. */
  cut(): Promise<void>;
  /** Its link up again. */
  heal(): Promise<void>;
  /** Blackhole routes inside this host to those addresses: a partition from just them. */
  block(addresses: string[]): Promise<void>;
  unblock(addresses: string[]): Promise<void>;
}

export interface Forwarder {
  host: string;
  port: number;
  close(): Promise<void>;
}

/** `Name`: the host names it was made with, so `net.hosts.nats1` is typed as there. */
export interface TestNetwork<Name extends string = string> {
  hosts: Record<Name, NetHost>;
  /** The test process's (root namespace's) own address on this network. */
  rootAddress: string;
  /**
   * A TCP forwarder in this process, listening on rootAddress:<free port>, to targetHost:targetPort
   * (e.g. Postgres on 127.0.0.1:5432), so the hosts reach it; close() ends its connections too.
   */
  forward(targetPort: number, targetHost?: string): Promise<Forwarder>;
  /** Deletes every namespace and link it made and closes its forwarders; idempotent. */
  destroy(): Promise<void>;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

async function namespaces(): Promise<string[]> {
  const out = await ip(["netns", "list"]);
  return out
    .split("\n")
    .map((line) => line.split(" ")[0] ?? "")
    .filter((name) => name.startsWith(NS_PREFIX));
}

/**
 * Kills what still runs in a namespace, then deletes it: a process left inside would keep the
 * namespace (and its links) alive after its name is gone, where nobody could find it again.
 */
async function deleteNamespace(ns: string): Promise<void> {
  const pids = await ip(["netns", "pids", ns]).catch(() => "");
  for (const pid of pids.split("\n").filter(Boolean)) {
    try {
      process.kill(Number(pid), "SIGKILL");
    } catch {
      // already gone
    }
  }
  await ip(["netns", "del", ns]).catch(() => undefined);
}

/** Namespaces left by test processes of this helper that died without destroying them. */
async function removeStale(): Promise<void> {
  const stale = (await namespaces()).filter((ns) => {
    const pid = Number(ns.slice(NS_PREFIX.length).split("-")[0]);
    return Number.isInteger(pid) && pid !== process.pid && !pidAlive(pid);
  });
  // The switch namespaces hold the root-side veths' peers: deleting them removes those links too.
  await Promise.all(stale.map(deleteNamespace));
}

/** Whether anything but `ownLink` in the root namespace has an address or route in 10.213.x.0/24. */
async function subnetTaken(x: number, ownLink: string): Promise<boolean> {
  const prefix = `${NET_PREFIX}.${x}.`;
  const [addrs, routes] = await Promise.all([
    ip(["-o", "-4", "addr", "show"]),
    ip(["-4", "route", "show", "table", "all"]),
  ]);
  const lines = [...addrs.split("\n"), ...routes.split("\n")];
  return lines.some((line) => line.includes(prefix) && !new RegExp(`\\b${ownLink}\\b`).test(line));
}

/**
 * Gives the root-side link an address in a /24 that nothing else in the root namespace uses.
 * Checking after adding (and backing off on a clash) makes two test processes racing for the
 * same X both see each other, so at most one keeps it.
 */
async function claimSubnet(rootLink: string): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const x = 1 + Math.floor(Math.random() * 254);
    if (await subnetTaken(x, rootLink)) continue;
    const cidr = `${NET_PREFIX}.${x}.1/24`;
    await ip(["addr", "add", cidr, "dev", rootLink]);
    if (!(await subnetTaken(x, rootLink))) return x;
    await ip(["addr", "del", cidr, "dev", rootLink]);
    await new Promise((r) => setTimeout(r, Math.random() * 50));
  }
  throw new Error(`no free ${NET_PREFIX}.x.0/24 in the root namespace after 50 tries`);
}

function netHost(name: string, ns: string, address: string, sw: string, switchPort: string): NetHost {
  const routes = async (verb: "add" | "del", addresses: string[]) => {
    await Promise.all(addresses.map((a) => ip(["-n", ns, "route", verb, "blackhole", `${a}/32`])));
  };
  return {
    name,
    ns,
    address,
    wrap: ["ip", "netns", "exec", ns],
    cut: async () => {
      await ip(["-n", sw, "link", "set", switchPort, "down"]);
    },
    heal: async () => {
      await ip(["-n", sw, "link", "set", switchPort, "up"]);
      // What the host tried to reach while cut is left as a failed neighbour entry, which would
      // drop its first replies (a SYN-ACK) and cost a peer a 1 s retransmit: resolve afresh.
      await ip(["-n", ns, "neigh", "flush", "all"]);
    },
    block: (addresses) => routes("add", addresses),
    unblock: (addresses) => routes("del", addresses),
  };
}

async function addHost(sw: string, ns: string, port: string, address: string): Promise<void> {
  await ip(["netns", "add", ns]);
  await ip(["-n", ns, "link", "set", "lo", "up"]);
  await ip(["-n", sw, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", ns]);
  await ip(["-n", sw, "link", "set", port, "master", "br0", "up"]);
  await ip(["-n", ns, "addr", "add", `${address}/24`, "dev", "eth0"]);
  await ip(["-n", ns, "link", "set", "eth0", "up"]);
}

async function startForwarder(host: string, targetPort: number, targetHost: string): Promise<Forwarder> {
  const sockets = new Set<Socket>();
  const server = createServer((inbound) => {
    const outbound = tcpConnect(targetPort, targetHost);
    // Either side failing or closing closes the other: a forwarder holds no half-dead pairs.
    for (const [a, b] of [
      [inbound, outbound],
      [outbound, inbound],
    ] as const) {
      sockets.add(a);
      a.on("error", () => b.destroy());
      a.once("close", () => {
        sockets.delete(a);
        b.destroy();
      });
      a.pipe(b);
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, host, () => resolve());
  });
  return {
    host,
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/**
 * A switch namespace with a bridge, one namespace per name in `hostNames` on it (lo up, eth0 at
 * 10.213.X.2, .3, …), and a veth from the root namespace (rootAddress 10.213.X.1) so this test
 * process reaches them and they reach its forwarders. Hosts have no route beyond the /24.
 */
export async function createTestNetwork<const Name extends string>(
  hostNames: Name[],
): Promise<TestNetwork<Name>> {
  if (hostNames.length > 250) throw new Error("a test network holds at most 250 hosts");
  await removeStale();
  const id = `${process.pid}-${++networks}`;
  const sw = `${NS_PREFIX}${id}-sw`;
  // Interface names in the root namespace share 15 characters and every test process.
  const rootLink = `cst${process.pid.toString(36)}n${networks}`;
  const made: string[] = [];
  const forwarders = new Set<Forwarder>();
  let destroyed: Promise<void> | undefined;
  const destroy = () => {
    destroyed ??= (async () => {
      await Promise.all([...forwarders].map((f) => f.close()));
      await Promise.all(made.map(deleteNamespace));
      await ip(["link", "del", rootLink]).catch(() => undefined);
    })();
    return destroyed;
  };
  try {
    await ip(["netns", "add", sw]);
    made.push(sw);
    await ip(["-n", sw, "link", "set", "lo", "up"]);
    await ip(["-n", sw, "link", "add", "br0", "type", "bridge"]);
    await ip(["-n", sw, "link", "set", "br0", "up"]);
    await ip(["link", "add", rootLink, "type", "veth", "peer", "name", "root", "netns", sw]);
    await ip(["-n", sw, "link", "set", "root", "master", "br0", "up"]);
    const x = await claimSubnet(rootLink);
    await ip(["link", "set", rootLink, "up"]);
    const hosts = {} as Record<Name, NetHost>;
    for (const [i, name] of hostNames.entries()) {
      const ns = `${NS_PREFIX}${id}-${name}`;
      const address = `${NET_PREFIX}.${x}.${i + 2}`;
      made.push(ns);
      await addHost(sw, ns, `h${i}`, address);
      hosts[name] = netHost(name, ns, address, sw, `h${i}`);
    }
    const rootAddress = `${NET_PREFIX}.${x}.1`;
    return {
      hosts,
      rootAddress,
      async forward(targetPort, targetHost = "127.0.0.1") {
        const f = await startForwarder(rootAddress, targetPort, targetHost);
        forwarders.add(f);
        return f;
      },
      destroy,
    };
  } catch (err) {
    await destroy();
    throw err;
  }
}
