import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { workspaceRoot } from "@cloudsim/shared/testing";
import { describe, expect, it } from "vitest";
import { eventually, type ServiceName, sample, useStack } from "./harness.ts";

/** promtool from Debian's prometheus package; .ci/run installs it. */
const promtool = spawnSync("promtool", ["--version"]).status === 0 ? "promtool" : undefined;
const mustHavePromtool = process.env.CI === "true";

/** `# TYPE` of every metric family in a Prometheus text answer. */
function types(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split("\n")) {
    const m = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (m?.[1] && m[2]) out.set(m[1], m[2]);
  }
  return out;
}

/** What each service must expose, by name and type (beyond the process metrics). */
const expected: Record<ServiceName, Record<string, string>> = {
  gateway: {
    cloudsim_http_requests_total: "counter",
    cloudsim_http_request_duration_seconds: "histogram",
    cloudsim_dependency_up: "gauge",
    process_cpu_seconds_total: "counter",
  },
  lifecycle: {
    cloudsim_nats_requests_total: "counter",
    cloudsim_nats_request_duration_seconds: "histogram",
    cloudsim_servers: "gauge",
    cloudsim_outbox_lag_seconds: "gauge",
    cloudsim_outbox_pending_events: "gauge",
    cloudsim_jetstream_consumer_pending_messages: "gauge",
    cloudsim_jetstream_consumer_ack_pending_messages: "gauge",
    cloudsim_dependency_up: "gauge",
  },
  ipam: {
    cloudsim_nats_requests_total: "counter",
    cloudsim_nats_request_duration_seconds: "histogram",
    cloudsim_ipam_addresses: "gauge",
    cloudsim_outbox_lag_seconds: "gauge",
    cloudsim_jetstream_consumer_pending_messages: "gauge",
    cloudsim_dependency_up: "gauge",
  },
  billing: {
    cloudsim_nats_requests_total: "counter",
    cloudsim_nats_request_duration_seconds: "histogram",
    cloudsim_dependency_up: "gauge",
  },
  reaper: {
    cloudsim_nats_requests_total: "counter",
    cloudsim_dependency_up: "gauge",
  },
};

/** Metric names the alert rules use that billing and reaper define (coordinated by name). */
const fromOtherServices = [
  "cloudsim_billing_tick_duration_seconds",
  "cloudsim_reaper_last_sweep_timestamp_seconds",
];

describe("metrics", () => {
  const ctx = useStack();
  const scrape = async (name: ServiceName) => {
    const service = ctx.stack.services.find((s) => s.name === name);
    const res = await fetch(`http://127.0.0.1:${service?.running.port}/metrics`);
    expect(res.status).toBe(200);
    return res.text();
  };
  const scrapeAll = async () =>
    Object.fromEntries(
      await Promise.all(
        (Object.keys(expected) as ServiceName[]).map(async (name) => [name, await scrape(name)] as const),
      ),
    ) as Record<ServiceName, string>;

  it("every service exposes the metrics an operator needs, and they move when work is done", async () => {
    const before = await scrapeAll();
    for (const [service, families] of Object.entries(expected)) {
      const found = types(before[service as ServiceName]);
      for (const [name, type] of Object.entries(families))
        expect(found.get(name), `${service} exposes ${name} as a ${type}`).toBe(type);
    }
    expect(sample(before.lifecycle, "cloudsim_dependency_up", { dependency: "postgres" })).toBe(1);
    expect(sample(before.gateway, "cloudsim_dependency_up", { dependency: "nats" })).toBe(1);
    // Both durable consumers of lifecycle and ipam are reported.
    expect(before.ipam).toMatch(/cloudsim_jetstream_consumer_pending_messages\{[^}]*consumer="/);

    const api = ctx.api;
    const region = "ap-southeast-1";
    const created = await api.post("/servers", { region, type: "t2.nano" });
    expect(created.status).toBe(201);
    await eventually(async () => {
      const r = await api.get(`/servers/${created.body.id}`);
      return r.body.state === "running" ? true : undefined;
    });
    // The events are published and consumed: the outbox drains.
    const after = await eventually(async () => {
      const now = await scrapeAll();
      return sample(now.lifecycle, "cloudsim_outbox_pending_events") === 0 ? now : undefined;
    });

    const moved = (service: ServiceName, name: string, labels: Record<string, string> = {}) =>
      sample(after[service], name, labels) - sample(before[service], name, labels);
    expect(moved("gateway", "cloudsim_http_requests_total", { route: "/servers", method: "POST" })).toBe(1);
    expect(moved("gateway", "cloudsim_http_request_duration_seconds_count", { route: "/servers" })).toBe(1);
    expect(moved("lifecycle", "cloudsim_nats_requests_total", { subject: "lifecycle.provision" })).toBe(1);
    expect(
      moved("lifecycle", "cloudsim_nats_request_duration_seconds_count", { subject: "lifecycle.provision" }),
    ).toBe(1);
    expect(moved("ipam", "cloudsim_nats_requests_total", { subject: "ipam.allocate", outcome: "ok" })).toBe(
      1,
    );
    expect(moved("lifecycle", "cloudsim_servers", { region, state: "running" })).toBe(1);
    expect(sample(after.lifecycle, "cloudsim_servers", { region, state: "provisioning" })).toBe(0);
    expect(moved("ipam", "cloudsim_ipam_addresses", { region, status: "used" })).toBe(1);
    expect(moved("ipam", "cloudsim_ipam_addresses", { region, status: "free" })).toBe(-1);
    expect(sample(after.lifecycle, "cloudsim_outbox_lag_seconds")).toBe(0);
  });

  it.skipIf(!promtool && !mustHavePromtool)("the metric output passes promtool check metrics", async () => {
    if (!promtool) throw new Error("promtool is missing: apt-get install -y prometheus (.ci/run does)");
    // A little traffic first, so every family has samples.
    await ctx.api.post("/servers", { region: "us-east-1", type: "t2.nano" });
    for (const [service, text] of Object.entries(await scrapeAll())) {
      const check = spawnSync(promtool, ["check", "metrics"], { input: text, encoding: "utf8" });
      expect(`${service}: ${check.stdout}${check.stderr}`.trim()).toBe(`${service}:`);
      expect(check.status).toBe(0);
    }
  });

  it("the alert rules use metrics that exist, and pass promtool check rules", async () => {
    const rulesFile = join(workspaceRoot, "ops/prometheus/alerts.yml");
    const rules = readFileSync(rulesFile, "utf8");
    const exposed = new Set<string>();
    for (const text of Object.values(await scrapeAll()))
      for (const name of types(text).keys()) exposed.add(name);
    const used = new Set(
      [...rules.matchAll(/\b(cloudsim_[a-z0-9_]+)/g)].map((m) =>
        (m[1] as string).replace(/_(bucket|sum|count)$/, ""),
      ),
    );
    expect(used.size).toBeGreaterThan(5);
    for (const name of used) {
      if (fromOtherServices.includes(name) && !exposed.has(name)) continue; // billing/reaper define it
      expect(exposed.has(name), `${name} (used in alerts.yml) is exposed by some service`).toBe(true);
    }
    for (const name of fromOtherServices) expect(used.has(name), `alerts.yml watches ${name}`).toBe(true);
    if (promtool) execFileSync(promtool, ["check", "rules", rulesFile], { encoding: "utf8" });
    else if (mustHavePromtool) throw new Error("promtool is missing");
  });
});
