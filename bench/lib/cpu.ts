import { readdirSync, readFileSync } from "node:fs";

/** Linux reports process CPU in clock ticks of 1/100 s (getconf CLK_TCK). */
const TICK_MS = 10;

/** The process of `binary` started with `-p <port>` (a postmaster, a nats-server), if this machine runs it. */
export function processOnPort(binary: string, port: number): number | undefined {
  for (const entry of readdirSync("/proc")) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    try {
      const args = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
      if (args[0]?.endsWith(binary) && args[args.indexOf("-p") + 1] === String(port)) return pid;
    } catch {}
  }
  return undefined;
}

/** The postmaster listening on `port`. */
export const postmasterOn = (port: number) => processOnPort("postgres", port);

/**
 * CPU milliseconds used so far by each part of the system (Linux /proc): the given pids under
 * their names, the bench's Postgres (its postmaster and the postmaster's children, when known;
 * otherwise every postgres process) and every nats-server, and this process as the load generator.
 */
export function cpuSnapshot(named: Map<number, string>, postmaster?: number): Map<string, number> {
  const totals = new Map<string, number>();
  for (const entry of readdirSync("/proc")) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    } catch {
      continue; // it exited between the listing and the read
    }
    const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
    // Fields after "(comm) ": state is the 1st, ppid the 2nd, utime the 12th, stime the 13th, then
    // cutime and cstime: the time of exited children, which is how a closed Postgres backend counts.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ours = postmaster === undefined || pid === postmaster || Number(fields[1]) === postmaster;
    const label =
      named.get(pid) ??
      (pid === process.pid
        ? "load generator"
        : (comm === "postgres" && ours) || comm === "nats-server"
          ? comm
          : undefined);
    if (!label) continue;
    const ticks = fields.slice(11, 15).reduce((sum, f) => sum + Number(f), 0);
    const ms = ticks * TICK_MS;
    totals.set(label, (totals.get(label) ?? 0) + ms);
  }
  return totals;
}

/** CPU milliseconds per completed request of each part, between two snapshots. */
export function cpuPerRequest(
  before: Map<string, number>,
  after: Map<string, number>,
  requests: number,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [label, ms] of after) {
    const used = ms - (before.get(label) ?? 0);
    if (used > 0 && requests > 0) out[label] = Math.round((used / requests) * 100) / 100;
  }
  return out;
}

const total = (snapshot: Map<string, number>) => {
  let ms = 0;
  for (const [label, used] of snapshot) if (label !== "load generator") ms += used;
  return ms;
};

/**
 * Waits until the system is idle again after a load (under a tenth of a core over half a
 * second), so the work a case queued (events, timers) is charged to it and not to the next.
 * Returns the seconds that took, or null when it never settled within `limitS`.
 */
export async function settle(
  named: Map<number, string>,
  postmaster: number | undefined,
  limitS = 120,
): Promise<number | null> {
  const started = performance.now();
  let last = total(cpuSnapshot(named, postmaster));
  while (performance.now() - started < limitS * 1000) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    const now = total(cpuSnapshot(named, postmaster));
    if (now - last < 50) return Math.round((performance.now() - started) / 100) / 10;
    last = now;
  }
  return null;
}
