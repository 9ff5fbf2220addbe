import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";
import type { Logger } from "./logger.ts";

/** A dependency the service needs to do its work; readiness fails while any check fails. */
export type ReadinessCheck = { name: string; check: () => Promise<void> };

const CHECK_TIMEOUT_MS = 2_000;

async function runCheck({ name, check }: ReadinessCheck): Promise<[string, string]> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
  });
  try {
    await Promise.race([check(), timeout]);
    return [name, "ok"];
  } catch (err) {
    return [name, (err as Error).message || "failed"];
  } finally {
    clearTimeout(timer);
  }
}

/** Runs every check; `ready` only when all answered. */
export async function readiness(checks: ReadinessCheck[]) {
  const results = Object.fromEntries(await Promise.all(checks.map(runCheck)));
  return { ready: Object.values(results).every((r) => r === "ok"), checks: results };
}

export interface HealthServer {
  server: Server;
  port: number;
  /** From now on /readyz answers 503 whatever the checks say: the process is shutting down. */
  drain(): void;
  close(): Promise<void>;
}

/** /healthz, /readyz and /metrics on a service's own port. */
export async function startHealthServer(opts: {
  port: number;
  host?: string;
  registry: Registry;
  checks: ReadinessCheck[];
  log: Logger;
}): Promise<HealthServer> {
  let draining = false;
  const server = createServer(async (req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (path === "/healthz") return send(res, 200, "application/json", JSON.stringify({ status: "ok" }));
    if (path === "/readyz") {
      const result = draining
        ? { ready: false, checks: { shutdown: "draining" } }
        : await readiness(opts.checks);
      return send(res, result.ready ? 200 : 503, "application/json", JSON.stringify(result));
    }
    if (path === "/metrics") return send(res, 200, opts.registry.contentType, await opts.registry.metrics());
    return send(res, 404, "application/json", JSON.stringify({ status: 404, title: "Not found" }));
  });
  await new Promise<void>((resolve) => server.listen(opts.port, opts.host ?? "0.0.0.0", resolve));
  const port = (server.address() as AddressInfo).port;
  opts.log.info({ port }, "health server listening");
  return {
    server,
    port,
    drain() {
      draining = true;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function send(res: import("node:http").ServerResponse, status: number, type: string, body: string) {
  res.writeHead(status, { "content-type": type });
  res.end(body);
}
