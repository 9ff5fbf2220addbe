import type { ChildProcess } from "node:child_process";
import type { Env } from "@cloudsim/shared";
import {
  freePort,
  localNatsUser,
  type NetHost,
  type ServiceProcessName,
  spawnService,
  waitForPort,
} from "@cloudsim/shared/testing";

/** A service's process, connecting to NATS as the service's own user (the tests' nats-server has one each). */
const spawn = (name: ServiceProcessName, env: Env, wrap?: string[]) =>
  spawnService(name, { ...localNatsUser(name), ...env }, { wrap });

/** A service running as its own OS process, for crash and restart tests. */
export interface ServiceProcess {
  name: ServiceProcessName;
  /** The address to call it on: its NetHost's, or 127.0.0.1. */
  host: string;
  /** Its PORT: the gateway's API, or another service's health and metrics. */
  port: number;
  child: ChildProcess;
  output: string[];
  /** SIGKILL: no graceful stop, as a crash would be. */
  kill(): Promise<void>;
  stop(): Promise<void>;
}

/** A service as its own process; with `host`, inside that NetHost's namespace (its env must then name addresses the host reaches). */
export async function startProcess(
  name: ServiceProcessName,
  env: Env,
  options: { host?: NetHost } = {},
): Promise<ServiceProcess> {
  const port = await freePort();
  const host = options.host?.address ?? "127.0.0.1";
  const child = spawn(name, { ...env, PORT: String(port) }, options.host?.wrap);
  const output: string[] = [];
  child.stdout?.on("data", (d) => output.push(String(d)));
  child.stderr?.on("data", (d) => output.push(String(d)));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const signal = async (sig: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(sig);
    await exited;
  };
  await waitForPort(port, name, 30_000, host).catch((err) => {
    child.kill("SIGKILL");
    throw new Error(`${(err as Error).message}\n${output.join("")}`);
  });
  return { name, host, port, child, output, kill: () => signal("SIGKILL"), stop: () => signal("SIGTERM") };
}

/** Runs a service to its exit and returns what it said, for start-up failures. */
export function runToExit(name: ServiceProcessName, env: Env, timeoutMs = 20_000) {
  const child = spawn(name, env);
  let output = "";
  child.stdout?.on("data", (d) => {
    output += String(d);
  });
  child.stderr?.on("data", (d) => {
    output += String(d);
  });
  return new Promise<{ code: number | null; output: string }>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${name} still running after ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}
