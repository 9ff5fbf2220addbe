/**
 * One reaper sweep over 100,000 idle servers (BENCH_FLEET to change it): each is terminated
 * through lifecycle with the state re-check. Prints the sweep's time and its ratio to the
 * default REAPER_INTERVAL (60 s). Run: npx tsx bench/reaper-sweep.ts
 */
import { lifecycleConfig, startLifecycle } from "@cloudsim/lifecycle";
import { reaperConfig, startReaper } from "@cloudsim/reaper";
import { loadConfig, uuidv7 } from "@cloudsim/shared";
import pg from "pg";
import { benchInfra } from "./infra.ts";
import { writeResults } from "./lib/results.ts";

const servers = Number(process.env.BENCH_FLEET ?? 100_000);
const infra = await benchInfra();
const lifecycleEnv = { ...infra.env, TIMER_INTERVAL: "1h", OUTBOX_INTERVAL: "1h" };
// One sweep takes the whole fleet (REAPER_BATCH), as the figure says.
const reaperEnv = { ...infra.env, IDLE_TIMEOUT: "30m", REAPER_INTERVAL: "1h", REAPER_BATCH: String(servers) };

try {
  // Migrate both schemas, then seed: servers stopped an hour ago, as lifecycle and the reaper know them.
  for (const running of [
    await startLifecycle(loadConfig(lifecycleConfig, lifecycleEnv), infra.log),
    await startReaper(loadConfig(reaperConfig, { ...reaperEnv, REAPER_DRY_RUN: "true" }), infra.log),
  ])
    await running.stop();
  const db = new pg.Client({ connectionString: infra.databaseUrl });
  await db.connect();
  const ids = Array.from({ length: servers }, () => uuidv7());
  await db.query(
    `INSERT INTO lifecycle.servers (id, name, region, type, vcpus, state, updated_at, reservation_id, image, availability_zone)
     SELECT id, 'idle-' || n, 'us-east-1', 't2.micro', 1, 'stopped', now() - interval '1 hour',
            'r-' || right(replace(id::text, '-', ''), 17), 'ami-0c1a7f8e2d3b4a5c6', 'us-east-1a'
     FROM unnest($1::uuid[]) WITH ORDINALITY AS t(id, n)`,
    [ids],
  );
  await db.query(
    `INSERT INTO reaper.watched (server_id, state, state_since)
     SELECT id, 'stopped', updated_at FROM lifecycle.servers`,
  );
  await db.query("DELETE FROM reaper.sweeps");

  const lifecycle = await startLifecycle(loadConfig(lifecycleConfig, lifecycleEnv), infra.log);
  const started = performance.now();
  const reaper = await startReaper(loadConfig(reaperConfig, reaperEnv), infra.log);
  let sweep: { reaped: number; ms: number } | undefined;
  while (!sweep) {
    const { rows } = await db.query(
      "SELECT reaped, extract(epoch FROM finished_at - started_at) * 1000 AS ms FROM reaper.sweeps LIMIT 1",
    );
    if (rows[0]) sweep = { reaped: rows[0].reaped, ms: Number(rows[0].ms) };
    else await new Promise((r) => setTimeout(r, 100));
  }
  const wall = performance.now() - started;
  const terminating = await db.query(
    "SELECT count(*)::int AS n FROM lifecycle.servers WHERE state = 'terminating'",
  );
  const figure = {
    figure: "reaper sweep",
    servers,
    reaped: sweep.reaped,
    terminating_after: terminating.rows[0].n,
    sweep_ms: Math.round(sweep.ms),
    per_second: Math.round((sweep.reaped / sweep.ms) * 1000),
    ratio_to_REAPER_INTERVAL_60s: (sweep.ms / 60_000).toFixed(3),
    wall_ms_incl_start: Math.round(wall),
  };
  console.table([figure]);
  console.error(`[bench] written ${writeResults("reaper-sweep", figure)}`);
  await reaper.stop();
  await lifecycle.stop();
  await db.end();
} finally {
  await infra.stop();
}
