import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { type NatsService, natsServices } from "../contracts/nats-roles.ts";
import { ANY_SUBJECT_PREFIX, natsAuthorizationConfig, natsPasswordVariable } from "../nats-permissions.ts";
import type { NetHost } from "./netns.ts";
import { freePort, waitForPort } from "./ports.ts";

const INSTALL_HINT =
  "nats-server was not found: install it (Debian/Ubuntu: apt-get install nats-server; macOS: brew install nats-server; " +
  "or download it from https://github.com/nats-io/nats-server/releases) or set NATS_URL";

/** The nats-server binary on PATH or in the usual system folders. */
export function findNatsServer(): string | undefined {
  const dirs = [
    ...(process.env.PATH ?? "").split(delimiter),
    "/usr/sbin",
    "/usr/local/bin",
    "/usr/bin",
    "/opt/homebrew/bin",
  ];
  return dirs.map((d) => join(d, "nats-server")).find((p) => existsSync(p));
}

/**
 * Installs Debian's nats-server package when this machine allows it (root, or sudo without a
 * password); otherwise throws saying how to get it.
 */
export function installNatsServer(): string {
  const apt = ["apt-get", "install", "-y", "-qq", "nats-server"];
  const asRoot = process.getuid?.() === 0;
  try {
    process.stderr.write("nats-server is missing: installing Debian's nats-server package\n");
    if (asRoot) execFileSync("apt-get", apt.slice(1), { stdio: ["ignore", "ignore", "inherit"] });
    else execFileSync("sudo", ["-n", ...apt], { stdio: ["ignore", "ignore", "inherit"] });
  } catch {
    throw new Error(INSTALL_HINT);
  }
  const binary = findNatsServer();
  if (!binary) throw new Error(INSTALL_HINT);
  return binary;
}

/**
 * A service's NATS user on a server of startNatsServer: its name, with its name as password
 * (like the local Postgres roles of ensureSchemaOwners; the server listens on 127.0.0.1 only).
 */
export function localNatsUser(service: NatsService): { NATS_USER: string; NATS_PASSWORD: string } {
  return { NATS_USER: service, NATS_PASSWORD: service };
}

export interface NatsServerHandle {
  url: string;
  port: number;
  /** The monitoring endpoint (/connz, /healthz), which needs no credentials. */
  monitorUrl: string;
  stop(): Promise<void>;
  /**
   * Stops it (SIGTERM, or SIGKILL for a node killed outright), waits `downMs`, and starts it again
   * on the same port and store, as a crash of NATS would.
   */
  restart(downMs?: number, options?: { signal?: "SIGTERM" | "SIGKILL" }): Promise<void>;
}

/**
 * A private nats-server with JetStream, on a free port, its store in a temp folder, and the
 * services' users and permissions (nats-permissions.ts), each with its localNatsUser password.
 * By default the permissions let each test file take a one-token subject prefix of its own,
 * and a client without credentials is the unrestricted user `test` (the tests' own clients
 * publish events and call every service); `make run` gives its prefix and no such user.
 * With `host` it runs inside that NetHost's namespace and listens (client, route, monitor) on
 * the host's address instead of 127.0.0.1.
 */
export async function startNatsServer(
  options: {
    port?: number;
    storeDir?: string;
    detached?: boolean;
    subjectPrefix?: string;
    openToTests?: boolean;
    /** A node of a JetStream cluster: its name, route port, and the other nodes' routes. */
    cluster?: ClusterNode;
    host?: NetHost;
  } = {},
): Promise<NatsServerHandle> {
  const binary = findNatsServer() ?? installNatsServer();
  const port = options.port ?? (await freePort());
  const monitorPort = await freePort();
  const address = options.host?.address ?? "127.0.0.1";
  const ownStore = !options.storeDir;
  const storeDir = options.storeDir ?? mkdtempSync(join(tmpdir(), "cloudsim-nats-"));
  const configFile = join(storeDir, "cloudsim.conf");
  mkdirSync(storeDir, { recursive: true });
  writeFileSync(
    configFile,
    natsAuthorizationConfig({
      subjectPrefix: options.subjectPrefix ?? ANY_SUBJECT_PREFIX,
      anonymousUser: (options.openToTests ?? true) ? "test" : undefined,
    }) + (options.cluster ? clusterConfig(options.cluster, address) : ""),
  );
  const passwords = Object.fromEntries(
    natsServices.map((service) => [natsPasswordVariable(service), localNatsUser(service).NATS_PASSWORD]),
  );
  let child: ChildProcess;

  const launch = async () => {
    // The monitor port listens on the client address (-a) too.
    const args = ["-c", configFile, "-a", address, "-p", String(port), "-m", String(monitorPort)];
    const [command = binary, ...argv] = [
      ...(options.host?.wrap ?? []),
      binary,
      ...args,
      "-js",
      "-sd",
      storeDir,
    ];
    child = spawn(command, argv, {
      stdio: "ignore",
      detached: options.detached ?? false,
      env: { ...process.env, ...passwords },
    });
    await waitForPort(port, "nats-server", 15_000, address);
  };
  const kill = (signal: NodeJS.Signals = "SIGTERM") =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once("exit", () => resolve());
      child.kill(signal);
    });

  await launch();
  return {
    url: `nats://${address}:${port}`,
    port,
    monitorUrl: `http://${address}:${monitorPort}`,
    async stop() {
      await kill();
      if (ownStore) rmSync(storeDir, { recursive: true, force: true });
    },
    async restart(downMs = 0, { signal = "SIGTERM" } = {}) {
      await kill(signal);
      await new Promise((r) => setTimeout(r, downMs));
      await launch();
    },
  };
}

/** One node of a JetStream cluster: its server name, its route port, the others' routes as host:port. */
export interface ClusterNode {
  name: string;
  routePort: number;
  peers: string[];
}

/**
 * The cluster block, and a short server ping: by default a server pings every 2 minutes, so a
 * cut link or a killed client would go unnoticed for minutes; at 1s × 3 missed pongs a partition
 * shows (routes drop, clients reconnect elsewhere) within seconds.
 */
function clusterConfig({ name, routePort, peers }: ClusterNode, address: string): string {
  const routes = peers.map((peer) => `nats-route://${peer}`).join(", ");
  return [
    "",
    `server_name: ${name}`,
    `ping_interval: "1s"`,
    "ping_max: 3",
    "cluster {",
    "  name: cloudsim",
    `  listen: ${address}:${routePort}`,
    `  routes: [${routes}]`,
    "}",
    "",
  ].join("\n");
}
