/**
 * One billing tick over a fleet of running servers: BENCH_FLEET (100,000) open intervals
 * inserted directly, then the tick (one statement) timed several times; prints the median and
 * its ratio to BILLING_INTERVAL (60s). `npx tsx bench/billing-tick.ts`
 */
import { BillingRepository, billingConfig, rateTable, startBilling } from "@cloudsim/billing";
import { createDatabase, loadConfig, parseDuration } from "@cloudsim/shared";
import { benchInfra } from "./infra.ts";
import { writeResults } from "./lib/results.ts";

const fleet = Number(process.env.BENCH_FLEET ?? 100_000);
const intervalMs = parseDuration(process.env.BILLING_INTERVAL ?? "60s", "s") ?? 60_000;
const rounds = 5;

const infra = await benchInfra();
try {
  // billing applies its migrations; its own tick stays out of the way.
  const billing = await startBilling(
    loadConfig(billingConfig, { ...infra.env, BILLING_INTERVAL: "1h" }),
    infra.log,
  );
  const database = createDatabase(infra.databaseUrl, 4, infra.log);
  await database.pool.query(
    `INSERT INTO billing.servers (server_id, type, region, rate, open_since, accrued_until)
     SELECT gen_random_uuid(), 't2.micro', 'us-east-1', 0.01,
            now() - interval '1 hour' - g * interval '1 millisecond', now() - make_interval(secs => $2::float8 / 1000)
     FROM generate_series(1, $1::int) AS g`,
    [fleet, intervalMs],
  );
  await database.pool.query("ANALYZE billing.servers");
  const repo = new BillingRepository(database.db, {
    rates: rateTable(10_000_000n),
    volumeRate: 80_000_000n,
    minimumMs: 0,
    currency: "USD",
  });
  const times: number[] = [];
  for (let i = 0; i < rounds; i++) {
    // Each round accrues a full BILLING_INTERVAL for every server, as a real tick would, in an
    // interval no tick has claimed yet.
    await database.pool.query(
      "UPDATE billing.servers SET accrued_until = now() - make_interval(secs => $1::float8 / 1000)",
      [intervalMs],
    );
    await database.pool.query("UPDATE billing.ticks SET interval_start = '-infinity'");
    const started = performance.now();
    const result = await repo.tick(intervalMs);
    times.push(performance.now() - started);
    if (result.accrued !== fleet) throw new Error(`tick accrued ${result.accrued} of ${fleet}`);
  }
  const lines = await database.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM billing.ledger");
  const median = [...times].sort((a, b) => a - b)[Math.floor(rounds / 2)] ?? 0;
  const figure = {
    servers: fleet,
    "tick median (ms)": median.toFixed(1),
    "tick min (ms)": Math.min(...times).toFixed(1),
    "tick max (ms)": Math.max(...times).toFixed(1),
    "BILLING_INTERVAL (ms)": intervalMs,
    "ratio to interval": (median / intervalMs).toExponential(2),
    "ledger lines": lines.rows[0]?.n ?? 0,
  };
  console.table([figure]);
  console.error(`[bench] written ${writeResults("billing-tick", figure)}`);
  await database.pool.end();
  await billing.stop();
} finally {
  await infra.stop();
}
