import { readdirSync, readFileSync } from "node:fs";
import { processOnPort } from "./cpu.ts";

/** A field of /proc/<pid>/status or smaps_rollup ("VmRSS", "Pss"), in kB; null when unreadable. */
function procKb(pid: number | undefined, file: "status" | "smaps_rollup", field: string): number | null {
  if (pid === undefined) return null;
  try {
    const kb = Number(
      new RegExp(`^${field}:\\s+(\\d+)`, "m").exec(readFileSync(`/proc/${pid}/${file}`, "utf8"))?.[1],
    );
    return Number.isFinite(kb) ? kb : null;
  } catch {
    return null;
  }
}

const mb = (kb: number) => Math.round(kb / 102.4) / 10;

/** Resident memory of these processes now, summed, in MB (Linux: VmRSS); null when one is unreadable. */
export function rssMb(pids: (number | undefined)[]): number | null {
  let kb = 0;
  for (const pid of pids) {
    const own = procKb(pid, "status", "VmRSS");
    if (own === null) return null;
    kb += own;
  }
  return mb(kb);
}

/**
 * Postgres's memory: the proportional set size (smaps_rollup "Pss") of the postmaster and all its
 * children, so shared buffers count once over all backends and not once per backend. In MB.
 */
export function postgresPssMb(postmaster: number | undefined): number | null {
  if (postmaster === undefined) return null;
  let kb = procKb(postmaster, "smaps_rollup", "Pss");
  if (kb === null) return null;
  for (const entry of readdirSync("/proc")) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === postmaster) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    } catch {
      continue;
    }
    const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    if (ppid === postmaster) kb += procKb(pid, "smaps_rollup", "Pss") ?? 0;
  }
  return mb(kb);
}

/** The nats-server listening on `port`. */
export const natsServerOn = (port: number) => processOnPort("nats-server", port);
