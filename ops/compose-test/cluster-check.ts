/**
 * The compose test's check of the cluster profile (ops/compose-test/run.sh brings the stack up with
 * `--profile cluster` and NATS_SERVERS / NATS_STREAM_REPLICAS set, then runs this): every stream is
 * kept on three nodes, as a node's monitoring endpoint (/jsz) shows, and no service uses the single nats;
 * a server provisioned through the gateway reaches running; with the node that leads the events
 * stream stopped, another one does too. No service restarted. Prints what it measured; exits
 * non-zero on the first check that fails.
 *   GATEWAY_URL, ADMIN_API_KEY; docker-compose and docker on PATH (COMPOSE, DOCKER), DOCKER_HOST
 *   and COMPOSE_PROJECT_NAME as the stack was started with.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { type Answer, gatewayCall } from "./gateway.ts";

const run = promisify(execFile);
const gatewayUrl = process.env.GATEWAY_URL ?? "";
const adminKey = process.env.ADMIN_API_KEY ?? "";
const compose = [process.env.COMPOSE ?? "docker-compose", "--profile", "cluster"];
const docker = process.env.DOCKER ?? "docker";
const nodes = ["nats-1", "nats-2", "nats-3"];
/** The streams the services make: events, dead letters, and the clock's KV bucket. */
const streams = ["EVENTS", "DEAD_LETTERS", "KV_clock"];

const say = (line: string) => process.stdout.write(`compose-test: cluster: ${line}\n`);
function check(condition: unknown, failure: string): asserts condition {
  if (!condition) throw new Error(`compose-test: cluster: ${failure}`);
}
check(gatewayUrl && adminKey, "set GATEWAY_URL and ADMIN_API_KEY");
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const containerOf = async (service: string) => {
  const [first = "", second] = (
    await run(compose[0] ?? "", [...compose.slice(1), "ps", "-q", service])
  ).stdout
    .split("\n")
    .filter(Boolean);
  check(first && !second, `one container of ${service}`);
  return first;
};

interface StreamDetail {
  name: string;
  config?: { num_replicas?: number };
  cluster?: { leader?: string; replicas?: { name: string; current: boolean }[] };
}
/** The streams a nats-server holds, from its monitoring endpoint (wget is in the image). */
async function streamsOn(service: string): Promise<StreamDetail[]> {
  const url = "http://127.0.0.1:8222/jsz?accounts=true&streams=true&config=true";
  const { stdout } = await run(docker, ["exec", await containerOf(service), "wget", "-q", "-O", "-", url]);
  const jsz = JSON.parse(stdout) as { account_details?: { stream_detail?: StreamDetail[] }[] };
  return (jsz.account_details ?? []).flatMap((account) => account.stream_detail ?? []);
}

const onNode = await streamsOn("nats-1");
for (const name of streams) {
  const stream = onNode.find((s) => s.name === name);
  check(stream, `stream ${name} not on nats-1: ${onNode.map((s) => s.name).join(", ") || "none"}`);
  // The node asked holds it (its own streams are what /jsz lists) and names the other peers.
  const peers = new Set([
    "nats-1",
    stream.cluster?.leader,
    ...(stream.cluster?.replicas ?? []).map((r) => r.name),
  ]);
  check(
    stream.config?.num_replicas === 3 && peers.size === 3 && nodes.every((node) => peers.has(node)),
    `stream ${name}: ${stream.config?.num_replicas} replicas on ${[...peers].join(", ")}`,
  );
}
const eventsLeader = onNode.find((s) => s.name === "EVENTS")?.cluster?.leader ?? "";
check(nodes.includes(eventsLeader), `EVENTS led by ${eventsLeader}`);
const { stdout: connz } = await run(docker, [
  "exec",
  await containerOf("nats"),
  ...["wget", "-q", "-O", "-", "http://127.0.0.1:8222/connz"],
]);
const clients = (JSON.parse(connz) as { num_connections: number }).num_connections;
check(clients === 0, `${clients} clients on the single nats`);
say(
  `${streams.join(", ")}: 3 replicas each on ${nodes.join(", ")} (EVENTS led by ${eventsLeader}); no client on nats`,
);

const call = gatewayCall(gatewayUrl);
async function created(answer: Promise<Answer>, what: string) {
  const { status, body } = await answer;
  check(status === 201, `${what}: ${status} ${JSON.stringify(body)}`);
  return body;
}

const tenant = await created(
  call(adminKey, "POST", "/admin/tenants", { name: "compose-test-cluster" }),
  "tenant",
);
const key = (await created(call(adminKey, "POST", `/admin/tenants/${tenant.id}/keys`), "key")).key as string;

/**
 * POST /servers, retried with its Idempotency-Key while the answer is 503 or 504 (a node just went),
 * then GET until running: the seconds it took and the attempts.
 */
async function provisionRunning(idempotencyKey: string, seconds = 60) {
  const started = Date.now();
  const deadline = started + seconds * 1000;
  let attempts = 0;
  let id: string | undefined;
  while (!id) {
    attempts += 1;
    const { status, body } = await call(
      key,
      "POST",
      "/servers",
      { region: "us-east-1", type: "t2.micro" },
      { "idempotency-key": idempotencyKey },
    );
    if (status === 201) id = body.id as string;
    else
      check(
        [503, 504].includes(status) && Date.now() < deadline,
        `POST /servers: ${status} ${JSON.stringify(body)}`,
      );
    if (!id) await sleep(500);
  }
  for (;;) {
    const { status, body } = await call(key, "GET", `/servers/${id}`);
    if (status === 200 && body.state === "running") break;
    check(
      Date.now() < deadline,
      `server ${id}: ${status} ${body.state ?? JSON.stringify(body)}, not running`,
    );
    await sleep(250);
  }
  return `${id} running in ${((Date.now() - started) / 1000).toFixed(1)} s (${attempts} POST)`;
}

say(`provisioned ${await provisionRunning("compose-test-cluster-1")}`);
const stopped = Date.now();
await run(compose[0] ?? "", [...compose.slice(1), "stop", eventsLeader]);
say(`stopped ${eventsLeader} (the EVENTS leader) in ${((Date.now() - stopped) / 1000).toFixed(1)} s`);
say(`with ${eventsLeader} down: provisioned ${await provisionRunning("compose-test-cluster-2")}`);

const ids = (await run(compose[0] ?? "", [...compose.slice(1), "ps", "-q"])).stdout
  .split("\n")
  .filter(Boolean);
const { stdout } = await run(docker, ["inspect", "--format", "{{.Name}} {{.RestartCount}}", ...ids]);
const restarted = stdout.split("\n").filter((line) => line && !line.endsWith(" 0"));
check(restarted.length === 0, `containers restarted: ${restarted.join(", ")}`);
say("no container restarted");
