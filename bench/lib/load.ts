import { createHistogram, type RecordableHistogram } from "node:perf_hooks";
import autocannon from "autocannon";

/** One measured figure, as printed and as written to bench/results/. */
export interface Figure {
  name: string;
  rps: number;
  p50_ms: number | null;
  p99_ms: number | null;
  errors: number;
  ceiling: string | null;
  ratio: number | null;
}

export const seconds = Number(process.env.BENCH_DURATION ?? 10);
export const warmupSeconds = Number(process.env.BENCH_WARMUP ?? 2);
export const connections = Number(process.env.BENCH_CONNECTIONS ?? 50);

const histogram = () => createHistogram({ lowest: 1, highest: 60_000_000, figures: 3 });
const ms = (h: RecordableHistogram, p: number) => (h.count ? h.percentile(p) / 1000 : null);

/** A closed loop: `concurrency` workers calling `op` back to back for the duration (after a warm-up). */
export async function closedLoop(name: string, op: () => Promise<void>, concurrency = connections) {
  const run = async (durationS: number, h?: RecordableHistogram) => {
    let ok = 0;
    let errors = 0;
    const end = performance.now() + durationS * 1000;
    const worker = async () => {
      while (performance.now() < end) {
        const t0 = performance.now();
        try {
          await op();
          ok++;
          h?.record(Math.max(1, Math.round((performance.now() - t0) * 1000)));
        } catch {
          errors++;
        }
      }
    };
    const start = performance.now();
    await Promise.all(Array.from({ length: concurrency }, worker));
    return { ok, errors, elapsed: (performance.now() - start) / 1000 };
  };
  if (warmupSeconds > 0) await run(warmupSeconds);
  const h = histogram();
  const r = await run(seconds, h);
  return figure(name, r.ok / r.elapsed, h, r.errors);
}

/**
 * autocannon at `clients` connections (default BENCH_CONNECTIONS) for the duration; latency of
 * 2xx answers at microsecond resolution.
 */
export async function httpLoad(
  name: string,
  options: Omit<autocannon.Options, "connections" | "duration">,
  clients = connections,
): Promise<Figure> {
  const okStatus = (status: number) => status < 300;
  const run = (duration: number, h?: RecordableHistogram) =>
    new Promise<autocannon.Result & { bad: number }>((resolve, reject) => {
      let bad = 0;
      const instance = autocannon({ ...options, connections: clients, duration }, (err, result) =>
        err ? reject(err) : resolve({ ...result, bad }),
      );
      instance.on("response", (_client, status, _bytes, latencyMs) => {
        if (okStatus(status)) h?.record(Math.max(1, Math.round(latencyMs * 1000)));
        else bad++;
      });
    });
  if (warmupSeconds > 0) await run(warmupSeconds);
  const h = histogram();
  const r = await run(seconds, h);
  return figure(name, h.count / r.duration, h, r.bad + r.errors + r.timeouts);
}

function figure(name: string, rps: number, h: RecordableHistogram, errors: number): Figure {
  return {
    name,
    rps: Math.round(rps),
    p50_ms: round(ms(h, 50)),
    p99_ms: round(ms(h, 99)),
    errors,
    ceiling: null,
    ratio: null,
  };
}

const round = (n: number | null) => (n === null ? null : Math.round(n * 100) / 100);

/** The figure as a share of its ceiling (none when the ceilings were not measured in this run). */
export function against(figure: Figure, ceiling: Figure | undefined): Figure {
  if (!ceiling) return figure;
  return { ...figure, ceiling: ceiling.name, ratio: Math.round((figure.rps / ceiling.rps) * 100) / 100 };
}

/** The figure's p50 latency as a multiple of its ceiling's (for one-client cases: lower is better). */
export function againstP50(figure: Figure, ceiling: Figure | undefined): Figure {
  if (!ceiling?.p50_ms || figure.p50_ms === null) return figure;
  return {
    ...figure,
    ceiling: `${ceiling.name}, p50`,
    ratio: Math.round((figure.p50_ms / ceiling.p50_ms) * 100) / 100,
  };
}
