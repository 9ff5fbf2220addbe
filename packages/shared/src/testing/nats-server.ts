import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
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

export interface NatsServerHandle {
  url: string;
  port: number;
  stop(): Promise<void>;
  /** Stops it, waits `downMs`, and starts it again on the same port and store, as a crash of NATS would. */
  restart(downMs?: number): Promise<void>;
}

/** A private nats-server with JetStream, on a free port, its store in a temp folder. */
export async function startNatsServer(
  options: { port?: number; storeDir?: string; detached?: boolean } = {},
): Promise<NatsServerHandle> {
  const binary = findNatsServer() ?? installNatsServer();
  const port = options.port ?? (await freePort());
  const ownStore = !options.storeDir;
  const storeDir = options.storeDir ?? mkdtempSync(join(tmpdir(), "cloudsim-nats-"));
  let child: ChildProcess;

  const launch = async () => {
    child = spawn(binary, ["-a", "127.0.0.1", "-p", String(port), "-js", "-sd", storeDir], {
      stdio: "ignore",
      detached: options.detached ?? false,
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
