/**
 * A simulated clock's month: BENCH_CLOCK_FLEET (10,000) servers launched through lifecycle
 * (RunInstances, 100 at a time), run by a move of the clock past PROVISION_DELAY, then a move of
 * 31 days. Prints how long each move took to catch up (the whole system settled, billing accrued),
 * its stops, and the ledger lines per server, which stay bounded whatever the jump.
 * `npx tsx bench/clock-jump.ts`
 */
import { billingConfig, startBilling } from "@cloudsim/billing";
import { ipamConfig, startIpam } from "@cloudsim/ipam";
import { lifecycleConfig, startLifecycle } from "@cloudsim/lifecycle";
import { reaperConfig, startReaper } from "@cloudsim/reaper";
import { clock, createDatabase, defaultImages, type Env, instances, loadConfig } from "@cloudsim/shared";
import { connectTestBus } from "@cloudsim/shared/testing";
import { benchInfra } from "./infra.ts";
import { writeResults } from "./lib/results.ts";

const fleet = Number(process.env.BENCH_CLOCK_FLEET ?? 10_000);
const perLaunch = 100;

const infra = await benchInfra();
try {
  const env: Env = {
    ...infra.env,
    CLOCK: "simulated",
    CLOCK_RATE: "0",
    PROVISION_DELAY: "1m",
    BILLING_RATE: "0.01",
    TENANT_MAX_SERVERS: String(fleet * 2),
    TENANT_MAX_VCPUS: String(fleet * 4),
    REQUEST_TIMEOUT: "30s",
    // A /16 per region (the default): 65,534 addresses in us-east-1.
  };
  const services = [
    await startIpam(loadConfig(ipamConfig, env), infra.log),
    await startLifecycle(loadConfig(lifecycleConfig, env), infra.log),
    await startBilling(loadConfig(billingConfig, env), infra.log),
    await startReaper(loadConfig(reaperConfig, env), infra.log),
  ];
  const bus = await connectTestBus(env.NATS_URL ?? "", {
    subjectPrefix: env.NATS_SUBJECT_PREFIX,
    requestTimeoutMs: 300_000,
  });
  const image = defaultImages[0]?.id ?? "";
  const spec = { region: "us-east-1" as const, type: "t2.micro" as const, image };
  const launchStarted = performance.now();
  for (let launched = 0; launched < fleet; launched += perLaunch) {
    const count = Math.min(perLaunch, fleet - launched);
    await bus.request(instances.run, { tenant_id: "default", spec, min_count: count, max_count: count });
  }
  const launchMs = performance.now() - launchStarted;

  const move = async (advance: string) => {
    const started = performance.now();
    const moved = await bus.request(clock.advance, { body: { advance }, wait: true });
    return { ...moved, ms: performance.now() - started };
  };
  const provisioned = await move("1m");
  const month = await move("31d");

  const database = createDatabase(infra.databaseUrl, 2, infra.log);
  const { rows } = await database.pool.query<{
    running: number;
    servers: number;
    max: number;
    lines: number;
  }>(`
    SELECT (SELECT count(*)::int FROM lifecycle.servers WHERE state = 'running') AS running,
           count(*)::int AS servers, max(n)::int AS max, sum(n)::int AS lines
    FROM (SELECT server_id, count(*) AS n FROM billing.ledger GROUP BY server_id) per_server`);
  const figures = rows[0];
  if (figures?.running !== fleet || figures.servers !== fleet)
    throw new Error(`expected ${fleet} running and billed servers: ${JSON.stringify(figures)}`);
  const figure = {
    servers: fleet,
    "launch (s)": (launchMs / 1000).toFixed(1),
    "move past PROVISION_DELAY (ms)": provisioned.ms.toFixed(0),
    "31-day jump (ms)": month.ms.toFixed(0),
    "31-day jump per server (µs)": ((month.ms * 1000) / fleet).toFixed(1),
    "jump stops": month.steps,
    "ledger lines per server (max)": figures.max,
    "ledger lines in all": figures.lines,
  };
  console.table([figure]);
  console.error(`[bench] written ${writeResults("clock-jump", figure)}`);
  await database.pool.end();
  await bus.close();
  for (const service of services.reverse()) await service.stop();
} finally {
  await infra.stop();
}
