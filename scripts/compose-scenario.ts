/**
 * The compose test's checks against a running `docker-compose.yml` stack (ops/compose-test/run.sh
 * starts it and runs this): through the gateway's published port, a server is provisioned, acted
 * on and terminated; lifecycle and billing are scaled under traffic; the lifecycle replica that
 * took a provision is killed before it completes, and another completes it; Prometheus scrapes
 * every replica; the provision's spans from gateway, lifecycle and ipam reach the tracing backend
 * as one trace. Prints what it measured; exits non-zero on the first check that fails.
 *   GATEWAY_URL, JAEGER_URL, PROMETHEUS_URL, ADMIN_API_KEY; docker-compose and docker on PATH
 *   (DOCKER_HOST and COMPOSE_PROJECT_NAME as the stack was started with).
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { promisify } from "node:util";
import { type Answer, gatewayCall } from "../ops/compose-test/gateway.ts";

const run = promisify(execFile);
const env = (name: string) => {
  const value = process.env[name];
  if (!value) throw new Error(`compose-scenario: set ${name}`);
  return value;
};
const gatewayUrl = env("GATEWAY_URL");
const jaegerUrl = env("JAEGER_URL");
const prometheusUrl = env("PROMETHEUS_URL");
const adminKey = env("ADMIN_API_KEY");
const compose = process.env.COMPOSE ?? "docker-compose";
const docker = process.env.DOCKER ?? "docker";
/** The replicas after scaling, as `--scale` flags and as Prometheus should find them. */
const replicas = { gateway: 1, lifecycle: 3, ipam: 1, billing: 2, reaper: 1 };

const say = (line: string) => process.stdout.write(`compose-test: ${line}\n`);
function check(condition: unknown, failure: string): asserts condition {
  if (!condition) throw new Error(`compose-test: ${failure}`);
}
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** Polls `probe` until it returns a value, for at most `seconds`. */
async function eventually<T>(what: string, seconds: number, probe: () => Promise<T | undefined>) {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    check(Date.now() < deadline, `${what}: not within ${seconds} s`);
    await sleep(250);
  }
}

const call = gatewayCall(gatewayUrl);
async function expectStatus(answer: Promise<Answer>, status: number, what: string) {
  const { status: got, body } = await answer;
  check(got === status, `${what}: ${got} ${JSON.stringify(body)}, expected ${status}`);
  return body;
}
const stateOf = async (key: string, id: string) =>
  (await expectStatus(call(key, "GET", `/servers/${id}`), 200, `GET /servers/${id}`)).state;
const reaches = (key: string, id: string, state: string) =>
  eventually(`server ${id} ${state}`, 30, async () =>
    (await stateOf(key, id)) === state ? true : undefined,
  );

/** Reads through the gateway from `keys.length` clients until stopped, keeping what failed. */
function traffic(keys: string[], serverId: string) {
  let running = true;
  let requests = 0;
  let failures: string[] = [];
  const workers = keys.map(async (key) => {
    while (running) {
      for (const path of ["/servers?limit=10", `/servers/${serverId}`]) {
        requests += 1;
        const failure = await call(key, "GET", path).then(
          ({ status, body }) => (status === 200 ? undefined : `${status} ${body.code ?? ""}`.trim()),
          (error: Error) => error.message,
        );
        if (failure) failures.push(failure);
      }
      // Within the gateway's per-key rate limit (600 a minute).
      await sleep(250);
    }
  });
  return {
    /** The requests and failures since the last window, for the part of the scenario in between. */
    window: () => {
      const counted = failures.reduce<Record<string, number>>(
        (tally, failure) => Object.assign(tally, { [failure]: (tally[failure] ?? 0) + 1 }),
        {},
      );
      const window = {
        errors: failures.length,
        said: `${requests} requests, ${failures.length} errors${failures.length ? ` ${JSON.stringify(counted)}` : ""}`,
      };
      requests = 0;
      failures = [];
      return window;
    },
    stop: async () => {
      running = false;
      await Promise.all(workers);
    },
  };
}

const composeRun = (...args: string[]) => run(compose, args, { maxBuffer: 64 * 1024 * 1024 });
async function healthyReplicas(service: string) {
  const { stdout } = await composeRun("ps", "-q", service);
  const ids = stdout.split("\n").filter(Boolean);
  const { stdout: states } = await run(docker, ["inspect", "--format", "{{.State.Health.Status}}", ...ids]);
  return states.split("\n").filter((state) => state === "healthy").length;
}
const allHealthy = async (service: string, count: number) =>
  (await healthyReplicas(service)) === count ? true : undefined;

// Provision, act, terminate, the provision under a trace of the test's own.
const tenant = await expectStatus(
  call(adminKey, "POST", "/admin/tenants", { name: "compose-test" }),
  201,
  "POST /admin/tenants",
);
const newKey = async () =>
  (await expectStatus(call(adminKey, "POST", `/admin/tenants/${tenant.id}/keys`), 201, "POST keys"))
    .key as string;
const key = await newKey();
const traceId = randomBytes(16).toString("hex");
const traceparent = `00-${traceId}-${randomBytes(8).toString("hex")}-01`;
const provision = (idempotencyKey: string, headers = {}) =>
  expectStatus(
    call(
      key,
      "POST",
      "/servers",
      { region: "us-east-1", type: "t2.micro" },
      { "idempotency-key": idempotencyKey, ...headers },
    ),
    201,
    "POST /servers",
  );
const server = await provision("compose-test-first", { traceparent });
const serverId = server.id as string;
await reaches(key, serverId, "running");
await expectStatus(call(key, "POST", `/servers/${serverId}/action`, { action: "stop" }), 202, "stop");
await reaches(key, serverId, "stopped");
await expectStatus(call(key, "POST", `/servers/${serverId}/action`, { action: "start" }), 202, "start");
await reaches(key, serverId, "running");
await expectStatus(call(key, "DELETE", `/servers/${serverId}`), 202, "DELETE");
await reaches(key, serverId, "terminated");
say(`provisioned, stopped, started and terminated ${serverId} through ${gatewayUrl}`);
// Swagger UI serves files from its package's folder: the image's node_modules must have it.
const docs = await fetch(`${gatewayUrl}/docs`);
check(docs.ok && /swagger/i.test(await docs.text()), `GET /docs: ${docs.status}, not Swagger UI`);

// Scale under traffic.
const watched = await provision("compose-test-watched");
await reaches(key, watched.id as string, "running");
const load = traffic(await Promise.all([1, 2, 3, 4].map(newKey)), watched.id as string);
const scaling = Date.now();
await composeRun(
  "up",
  "-d",
  "--no-build",
  "--no-recreate",
  ...Object.entries(replicas).flatMap(([service, count]) =>
    count > 1 ? ["--scale", `${service}=${count}`] : [],
  ),
);
for (const [service, count] of Object.entries(replicas))
  await eventually(`${count} healthy ${service}`, 90, () => allHealthy(service, count));
const scaled = load.window();
say(
  `scaled to lifecycle=3 billing=2 in ${((Date.now() - scaling) / 1000).toFixed(1)} s under traffic: ` +
    scaled.said,
);
check(scaled.errors === 0, "requests failed while replicas were added");

// Kill the lifecycle replica that took a provision before the provision completes.
const { stdout: lifecycleIds } = await composeRun("ps", "-q", "lifecycle");
const doomed = await provision("compose-test-killed");
const logs = async (id: string) => {
  const { stdout, stderr } = await run(docker, ["logs", id], { maxBuffer: 64 * 1024 * 1024 });
  return stdout + stderr;
};
const taker = await eventually("a lifecycle replica logging the provision", 2, async () => {
  const replicasSaid = await Promise.all(
    lifecycleIds
      .split("\n")
      .filter(Boolean)
      .map(async (id) => ({ id, said: await logs(id) })),
  );
  return replicasSaid.find(({ said }) =>
    said
      .split("\n")
      .some((line) => line.includes(doomed.id as string) && line.includes("server provisioned")),
  )?.id;
});
await run(docker, ["kill", taker]);
const killed = Date.now();
check(
  (await stateOf(key, doomed.id as string)) === "provisioning",
  "the provision completed before the kill",
);
await reaches(key, doomed.id as string, "running");
say(
  `killed lifecycle replica ${taker.slice(0, 12)} mid-provision: another replica completed it in ` +
    `${((Date.now() - killed) / 1000).toFixed(1)} s`,
);
await run(docker, ["start", taker]);
await eventually("the killed replica healthy again", 90, () => allHealthy("lifecycle", replicas.lifecycle));
const afterKill = load.window();
await load.stop();
say(`during the kill and restart: ${afterKill.said}`);

// Every replica scraped.
interface Target {
  labels: { job: string };
  health: string;
}
await eventually("Prometheus scraping every replica", 120, async () => {
  const answer = (await (await fetch(`${prometheusUrl}/api/v1/targets`)).json()) as {
    data: { activeTargets: Target[] };
  };
  const up = (job: string) =>
    answer.data.activeTargets.filter((target) => target.labels.job === job && target.health === "up").length;
  return Object.entries(replicas).every(([service, count]) => up(`cloudsim-${service}`) === count)
    ? true
    : undefined;
});
say(`Prometheus: every replica's target up (${JSON.stringify(replicas)})`);

// One trace across the services.
interface JaegerTrace {
  spans: { processID: string }[];
  processes: Record<string, { serviceName: string }>;
}
const services = await eventually("the provision's trace from gateway, lifecycle and ipam", 60, async () => {
  const response = await fetch(`${jaegerUrl}/api/traces/${traceId}`);
  if (!response.ok) return undefined;
  const [trace] = ((await response.json()) as { data: JaegerTrace[] }).data;
  const names = new Set(trace?.spans.map((span) => trace.processes[span.processID]?.serviceName));
  return ["gateway", "lifecycle", "ipam"].every((name) => names.has(name)) ? [...names] : undefined;
});
say(`trace ${traceId}: spans from ${services.sort().join(", ")}`);
