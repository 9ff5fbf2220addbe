import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { type NatsService, natsServices } from "../contracts/nats-roles.ts";
import { ANY_SUBJECT_PREFIX, natsAuthorizationConfig, natsPasswordVariable } from "../nats-permissions.ts";
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
  /** Stops it, waits `downMs`, and starts it again on the same port and store, as a crash of NATS would. */
  restart(downMs?: number): Promise<void>;
}

/**
 * A private nats-server with JetStream, on a free port, its store in a temp folder, and the
 * services' users and permissions (nats-permissions.ts), each with its localNatsUser password.
 * By default the permissions let each test file take a one-token subject prefix of its own,
 * and a client without credentials is the unrestricted user `test` (the tests' own clients
 * publish events and call every service); `make run` gives its prefix and no such user.
 */
export async function startNatsServer(
  options: {
    port?: number;
    storeDir?: string;
    detached?: boolean;
    subjectPrefix?: string;
    openToTests?: boolean;
    /** A node of a JetStream cluster: its name, route port, and the other nodes' route ports. */
    cluster?: ClusterNode;
  } = {},
): Promise<NatsServerHandle> {
  const binary = findNatsServer() ?? installNatsServer();
  const port = options.port ?? (await freePort());
  const monitorPort = await freePort();
  const ownStore = !options.storeDir;
  const storeDir = options.storeDir ?? mkdtempSync(join(tmpdir(), "cloudsim-nats-"));
  const configFile = join(storeDir, "cloudsim.conf");
  mkdirSync(storeDir, { recursive: true });
  writeFileSync(
    configFile,
    natsAuthorizationConfig({
      subjectPrefix: options.subjectPrefix ?? ANY_SUBJECT_PREFIX,
      anonymousUser: (options.openToTests ?? true) ? "test" : undefined,
    }) + (options.cluster ? clusterConfig(options.cluster) : ""),
  );
  const passwords = Object.fromEntries(
    natsServices.map((service) => [natsPasswordVariable(service), localNatsUser(service).NATS_PASSWORD]),
  );
  let child: ChildProcess;

  const launch = async () => {
    const args = ["-c", configFile, "-a", "127.0.0.1", "-p", String(port), "-m", String(monitorPort)];
    child = spawn(binary, [...args, "-js", "-sd", storeDir], {
      stdio: "ignore",
      detached: options.detached ?? false,
      env: { ...process.env, ...passwords },
    });
    await waitForPort(port, "nats-server");
  };
  const kill = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once("exit", () => resolve());
      child.kill("SIGTERM");
    });

  await launch();
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    monitorUrl: `http://127.0.0.1:${monitorPort}`,
    async stop() {
      await kill();
      if (ownStore) rmSync(storeDir, { recursive: true, force: true });
    },
    async restart(downMs = 0) {
      await kill();
      await new Promise((r) => setTimeout(r, downMs));
      await launch();
    },
  };
}

/** One node of a local JetStream cluster: its server name, its route port, the others' route ports. */
export interface ClusterNode {
  name: string;
  routePort: number;
  peers: number[];
}

function clusterConfig({ name, routePort, peers }: ClusterNode): string {
  const routes = peers.map((port) => `nats-route://127.0.0.1:${port}`).join(", ");
  return `\nserver_name: ${name}\ncluster {\n  name: cloudsim\n  listen: 127.0.0.1:${routePort}\n  routes: [${routes}]\n}\n`;
}
