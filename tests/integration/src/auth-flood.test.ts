import { randomUUID } from "node:crypto";
import { Worker } from "node:worker_threads";
import { DescribeInstancesCommand, type EC2ServiceException } from "@aws-sdk/client-ec2";
import { tenants } from "@cloudsim/shared";
import { describe, expect, it } from "vitest";
import { ec2Client, ec2Env } from "./ec2-helpers.ts";
import { type Answer, type Stack, sample, useStack } from "./harness.ts";
import { authEnv, expectProblem, keyed, newTenant } from "./tenancy-helpers.ts";

const FAILURES_PER_MINUTE = 60;
// More distinct keys than the 10,000 that used to clear the whole key cache.
const FLOOD = 10_500;
const FLOOD_CONCURRENCY = 8;

/** How many times lifecycle answered `subject`: with `outcome` ("ok", "UNAUTHORIZED", …), or at all. */
async function answered(stack: Stack, subject: string, outcome?: string) {
  const lifecycle = stack.services.find((s) => s.name === "lifecycle");
  const metrics = await (await fetch(`http://127.0.0.1:${lifecycle?.running.port}/metrics`)).text();
  return sample(metrics, "cloudsim_nats_requests_total", outcome ? { subject, outcome } : { subject });
}

/** The failures an address may make in `ms`: a full bucket, and what refilled meanwhile. */
const withRefill = (ms: number) => FAILURES_PER_MINUTE + Math.ceil((ms / 60_000) * FAILURES_PER_MINUTE) + 1;

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;

// The flood runs on a thread of its own, so its HTTP client does not slow the tenant's requests
// on this thread; only the gateway's work for it (on this thread too) could.
const floodThread = `
const { parentPort, workerData } = require("node:worker_threads");
const { randomBytes } = require("node:crypto");
const http = require("node:http");
const { url, count, concurrency } = workerData;
const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
const get = () =>
  new Promise((resolve, reject) => {
    const authorization = "Bearer csk_" + randomBytes(32).toString("base64url");
    http.get(url + "/servers", { agent, headers: { authorization } }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk) => (body += chunk));
      res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, body }));
    }).on("error", reject);
  });
const statuses = {};
let sent = 0;
let limited;
const worker = async () => {
  while (sent < count) {
    sent++;
    const answer = await get();
    statuses[answer.status] = (statuses[answer.status] ?? 0) + 1;
    if (answer.status === 429) limited ??= answer;
  }
};
Promise.all(Array.from({ length: concurrency }, worker)).then(() => {
  agent.destroy();
  parentPort.postMessage({ statuses, limited });
});
`;

/** `count` requests, each with a new random key, from one address; how many got each status, and a 429. */
function flood(url: string, count: number): Promise<{ statuses: Record<number, number>; limited?: Answer }> {
  const thread = new Worker(floodThread, {
    eval: true,
    workerData: { url, count, concurrency: FLOOD_CONCURRENCY },
  });
  return new Promise((resolve, reject) => {
    thread.once("error", reject);
    thread.once("message", ({ statuses, limited }) => {
      void thread.terminate();
      resolve({
        statuses,
        limited: limited && {
          ...limited,
          headers: new Headers(limited.headers),
          body: JSON.parse(limited.body),
        },
      });
    });
  });
}

describe("a flood of unknown keys from one address", () => {
  // The tenant's key stays cached for the whole test, so any resolution of it is an eviction.
  const s = useStack({
    env: {
      ...ec2Env,
      AUTH_FAILURES_PER_MINUTE: String(FAILURES_PER_MINUTE),
      AUTH_CACHE_TTL: "1h",
      RATE_LIMIT_PER_MINUTE: "100000",
    },
  });
  const authenticate = tenants.authenticate.subject;

  it("is refused past AUTH_FAILURES_PER_MINUTE, never evicts a tenant's key nor slows its requests", async () => {
    const tenant = keyed(s.stack.url, (await newTenant(s.stack.url, "steady")).key);
    const timed = async () => {
      const started = performance.now();
      expect((await tenant.get("/servers")).status).toBe(200);
      return performance.now() - started;
    };
    const before: number[] = [];
    for (let i = 0; i < 30; i++) before.push(await timed());
    const resolvedBefore = await answered(s.stack, authenticate, "ok");
    const askedBefore = await answered(s.stack, authenticate);

    const startedAt = Date.now();
    let flooding = true;
    const attack = flood(s.stack.url, FLOOD).finally(() => {
      flooding = false;
    });
    const during: number[] = [];
    while (flooding) during.push(await timed());
    const { statuses, limited } = await attack;

    // The tenant's key was never resolved again, and its requests kept their pace.
    expect(await answered(s.stack, authenticate, "ok")).toBe(resolvedBefore);
    expect(during.length).toBeGreaterThan(5);
    expect(median(during)).toBeLessThanOrEqual(3 * median(before) + 50);

    // At most the bucket and what refilled while the flood lasted reached lifecycle; the rest was 429.
    const allowedFailures = withRefill(Date.now() - startedAt);
    const unknown = statuses[401] ?? 0;
    expect(unknown).toBeLessThanOrEqual(allowedFailures);
    expect(statuses).toEqual({ 401: unknown, 429: FLOOD - unknown });
    expect(await answered(s.stack, authenticate)).toBeLessThanOrEqual(askedBefore + allowedFailures);
    if (!limited) throw new Error("no answer of the flood was 429");
    expectProblem(limited, 429, "RATE_LIMITED");
    expect(limited.body.detail).toContain("AUTH_FAILURES_PER_MINUTE");
    expect(limited.body.limit_per_minute).toBe(FAILURES_PER_MINUTE);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
  }, 60_000);

  it("answers RequestLimitExceeded (503) on the EC2 face past the same limit, before lifecycle", async () => {
    const awsCredentials = tenants.awsCredentials.subject;
    const askedBefore = await answered(s.stack, awsCredentials);
    const startedAt = Date.now();
    const attempts = await Promise.all(
      Array.from({ length: 2 * FAILURES_PER_MINUTE }, () =>
        ec2Client(s.stack.url, { keyId: randomUUID(), key: "a-guessed-secret" }, { maxAttempts: 1 })
          .send(new DescribeInstancesCommand({}))
          .then(
            () => "answered",
            (err: EC2ServiceException) => `${err.name} ${err.$metadata.httpStatusCode}`,
          ),
      ),
    );
    const allowedFailures = withRefill(Date.now() - startedAt);
    const refused = attempts.filter((answer) => answer === "AuthFailure 401").length;
    expect(refused).toBeGreaterThanOrEqual(FAILURES_PER_MINUTE);
    expect(refused).toBeLessThanOrEqual(allowedFailures);
    expect(attempts.filter((answer) => answer === "RequestLimitExceeded 503")).toHaveLength(
      attempts.length - refused,
    );
    expect(await answered(s.stack, awsCredentials)).toBeLessThanOrEqual(askedBefore + allowedFailures);
  });
});

describe("unknown keys let through to lifecycle", () => {
  // No address limit: every unknown key is resolved, and the cache holds only ten keys.
  const s = useStack({
    env: { ...authEnv, AUTH_FAILURES_PER_MINUTE: "0", AUTH_CACHE_SIZE: "10", AUTH_CACHE_TTL: "1h" },
  });

  it("never take a tenant's place in the key cache", async () => {
    const tenant = keyed(s.stack.url, (await newTenant(s.stack.url, "kept")).key);
    expect((await tenant.get("/servers")).status).toBe(200);
    const resolvedBefore = await answered(s.stack, tenants.authenticate.subject, "ok");
    const { statuses } = await flood(s.stack.url, 200);
    expect(statuses).toEqual({ 401: 200 });
    expect((await tenant.get("/servers")).status).toBe(200);
    expect(await answered(s.stack, tenants.authenticate.subject, "ok")).toBe(resolvedBefore);
  });
});

describe("the per-key rate limit's headers", () => {
  const s = useStack({ env: { ...authEnv, RATE_LIMIT_PER_MINUTE: "10" } });

  it("tell a tenant what is left of its bucket, in x-ratelimit-*", async () => {
    const tenant = keyed(s.stack.url, (await newTenant(s.stack.url, "counted")).key);
    const remaining = (answer: Answer) => Number(answer.headers.get("x-ratelimit-remaining"));
    const first = await tenant.get("/servers");
    const second = await tenant.get("/servers");
    expect(first.headers.get("x-ratelimit-limit")).toBe("10");
    expect([remaining(first), remaining(second)]).toEqual([9, 8]);
    // Two tokens short of full, at one token every 6 s.
    expect(Number(second.headers.get("x-ratelimit-reset"))).toBe(12);
  });
});
