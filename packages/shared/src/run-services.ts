import type { z } from "zod";
import { ConfigError, type Env, loadConfig } from "./config.ts";
import { createLogger, type Logger } from "./logger.ts";
import type { RunningService } from "./service.ts";
import { flushTracing } from "./trace-context.ts";

/** One service of a process: its name, its configuration's schema and environment, its start. */
export interface ServiceEntry<S extends z.ZodType = z.ZodType> {
  name: string;
  schema: S;
  start: (config: z.infer<S>, log: Logger) => Promise<RunningService>;
  /** The environment its configuration is read from (process.env when left out). */
  env?: Env;
}

/** A service entry, typed by its schema. */
export const serviceEntry = <S extends z.ZodType>(entry: ServiceEntry<S>): ServiceEntry =>
  entry as ServiceEntry;

interface Started {
  name: string;
  log: Logger;
  graceMs: number;
  running: RunningService;
}

/** main() of every service: config parsed once, start, and a graceful stop on SIGTERM/SIGINT. */
export function runService<S extends z.ZodType>(
  name: string,
  schema: S,
  start: (config: z.infer<S>, log: Logger) => Promise<RunningService>,
): Promise<void> {
  return runServices([serviceEntry({ name, schema, start })]);
}

/**
 * main() of a process of one service or several (the one-process mode): every configuration is
 * parsed before anything starts, the services start side by side (as the split deployment's
 * processes do; each waits for nothing the others make), each with its own, and SIGTERM/SIGINT
 * stops them in reverse order of the entries, each within its own SHUTDOWN_GRACE; past it the
 * process exits 1, naming what that service abandoned.
 */
export async function runServices(entries: ServiceEntry[]): Promise<void> {
  const configs = entries.map(configOrExit);
  const outcomes = await Promise.allSettled(
    entries.map(async (entry, i): Promise<Started> => {
      const config = configs[i] as { LOG_LEVEL: string; SHUTDOWN_GRACE: number };
      const log = createLogger(entry.name, config.LOG_LEVEL);
      try {
        const running = await entry.start(config, log);
        log.info({ port: running.port }, `${entry.name} started`);
        return { name: entry.name, log, graceMs: config.SHUTDOWN_GRACE, running };
      } catch (err) {
        log.fatal({ err }, `${entry.name} failed to start`);
        throw err;
      }
    }),
  );
  const started = outcomes.flatMap((o) => (o.status === "fulfilled" ? [o.value] : []));
  if (started.length < entries.length) {
    await stopAll(started);
    process.exit(1);
  }
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    await stopAll(started, signal);
    await flushTracing();
    process.exit(0);
  };
  process.once("SIGTERM", shutdown);
  process.once("SIGINT", shutdown);
}

/** An entry's configuration; a bad one ends the process, naming the service and each variable. */
function configOrExit(entry: ServiceEntry): unknown {
  try {
    return loadConfig(entry.schema, entry.env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${entry.name}: ${err.message}\n`);
    process.exit(1);
  }
}

/** Stops the started services, the last started first. */
async function stopAll(started: Started[], signal?: string): Promise<void> {
  for (const { name, log, graceMs, running } of started.toReversed()) {
    if (signal) log.info({ signal }, `${name} stopping`);
    const timer = setTimeout(() => {
      log.error(
        { abandoned: running.unfinished?.() ?? ["stop"] },
        `${name} did not stop within SHUTDOWN_GRACE (${graceMs} ms); exiting anyway`,
      );
      process.exit(1);
    }, graceMs);
    timer.unref();
    await running.stop();
    clearTimeout(timer);
  }
}
