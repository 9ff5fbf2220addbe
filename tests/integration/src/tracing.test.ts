import { randomBytes, randomUUID } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Env } from "@cloudsim/shared";
import { createTestDatabase, type TestDatabase } from "@cloudsim/shared/testing";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { client, eventually, fastEnv } from "./harness.ts";
import { type ServiceProcess, startProcess } from "./processes.ts";

/** One span as an OTLP/HTTP JSON export carries it, with the service that sent it. */
interface ReceivedSpan {
  service: string;
  name: string;
  kind: number;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  links: { traceId: string; spanId: string }[];
  attributes: Record<string, unknown>;
}

// OTLP span kinds (SPAN_KIND_*).
const SERVER = 2;
const CLIENT = 3;
const CONSUMER = 5;

type AnyValue = { stringValue?: string; intValue?: string | number; boolValue?: boolean };
type KeyValue = { key: string; value: AnyValue };
const attributes = (list: KeyValue[] | undefined) =>
  Object.fromEntries(
    (list ?? []).map(({ key, value }) => [key, value.stringValue ?? value.intValue ?? value.boolValue]),
  );

/** A collector in the test: accepts OTLP/HTTP JSON on /v1/traces and keeps every span. */
async function startOtlpReceiver() {
  const spans: ReceivedSpan[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      if (req.url === "/v1/traces" && req.headers["content-type"]?.includes("json")) {
        const body = JSON.parse(Buffer.concat(chunks).toString());
        for (const rs of body.resourceSpans ?? []) {
          const service = String(attributes(rs.resource?.attributes)["service.name"]);
          for (const ss of rs.scopeSpans ?? [])
            for (const s of ss.spans ?? [])
              spans.push({
                service,
                name: s.name,
                kind: s.kind,
                traceId: s.traceId,
                spanId: s.spanId,
                parentSpanId: s.parentSpanId ?? "",
                links: (s.links ?? []).map((l: ReceivedSpan["links"][number]) => ({
                  traceId: l.traceId,
                  spanId: l.spanId,
                })),
                attributes: attributes(s.attributes),
              });
        }
      }
      res.writeHead(200, { "content-type": "application/json" });
      res.end("{}");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    spans,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * ipam, lifecycle and the gateway as processes with the tracing preload, exporting as `otel`
 * says; each goes into `processes` as it starts, so the test's afterAll stops what did.
 */
async function startTraced(processes: ServiceProcess[], database: TestDatabase, otel: Env) {
  const env = {
    ...fastEnv,
    DATABASE_URL: database.url,
    NATS_URL: inject("natsUrl"),
    NATS_SUBJECT_PREFIX: `t${randomBytes(5).toString("hex")}.`,
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: undefined,
    OTEL_TRACES_EXPORTER: undefined,
    OTEL_SDK_DISABLED: undefined,
    ...otel,
  };
  for (const name of ["ipam", "lifecycle", "gateway"] as const) processes.push(await startProcess(name, env));
}

describe("one HTTP request is one trace across gateway, lifecycle and ipam", () => {
  let database: TestDatabase;
  let receiver: Awaited<ReturnType<typeof startOtlpReceiver>>;
  const processes: ServiceProcess[] = [];

  beforeAll(async () => {
    database = await createTestDatabase(inject("postgresAdminUrl"));
    receiver = await startOtlpReceiver();
    await startTraced(processes, database, {
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
      OTEL_BSP_SCHEDULE_DELAY: "100",
    });
  });
  afterAll(async () => {
    for (const p of processes.reverse()) await p.stop();
    await receiver?.close();
    await database?.drop();
  });

  it("links gateway → lifecycle handler → ipam allocate → pg, and the event consumers to it", async () => {
    const gateway = processes.find((p) => p.name === "gateway") as ServiceProcess;
    const api = client(`http://127.0.0.1:${gateway.port}`);
    const requestId = `trace-test-${randomUUID()}`;
    const created = await api.post(
      "/servers",
      { region: "eu-west-1", type: "t2.micro" },
      { "X-Request-Id": requestId },
    );
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const serverId: string = created.body.id;

    const find = (service: string, name: string, kind?: number) =>
      receiver.spans.find((s) => s.service === service && s.name === name && (kind ?? s.kind) === s.kind);
    const handler = await eventually(
      async () => find("lifecycle", "lifecycle.provision", SERVER),
      10_000,
      "the lifecycle.provision span",
    );
    const traceId = handler.traceId;
    const inTrace = () => receiver.spans.filter((s) => s.traceId === traceId);
    const byId = (id: string) => inTrace().find((s) => s.spanId === id);
    /** The spans from `span` up to the root of its trace. */
    const ancestry = (span: ReceivedSpan) => {
      const chain = [span];
      for (let p = byId(span.parentSpanId); p; p = byId(p.parentSpanId)) chain.push(p);
      return chain;
    };

    const allocate = await eventually(
      async () => find("ipam", "ipam.allocate", SERVER),
      10_000,
      "ipam.allocate",
    );
    const pgSpans = await eventually(
      async () => {
        const found = inTrace().filter((s) => s.service === "ipam" && s.name.startsWith("pg."));
        return found.length > 0 ? found : undefined;
      },
      10_000,
      "ipam's pg spans",
    );
    // The root: the gateway's HTTP server span, with fastify's spans under it.
    const root = await eventually(
      async () => inTrace().find((s) => s.service === "gateway" && s.kind === SERVER && !s.parentSpanId),
      10_000,
      "the gateway's HTTP span",
    );
    expect(root.attributes["http.method"] ?? root.attributes["http.request.method"]).toBe("POST");

    // gateway: HTTP span → … → client span of lifecycle.provision → lifecycle's handler span.
    const gatewayClient = byId(handler.parentSpanId);
    expect(gatewayClient, "the handler's parent is a gateway span").toMatchObject({
      service: "gateway",
      name: "lifecycle.provision request",
      kind: CLIENT,
    });
    expect(ancestry(handler).at(-1)?.spanId).toBe(root.spanId);
    expect(handler.attributes["cloudsim.request_id"]).toBe(requestId);

    // lifecycle's client span of ipam.allocate sits under its handler; ipam's handler under that.
    expect(allocate.traceId).toBe(traceId);
    const lifecycleClient = byId(allocate.parentSpanId);
    expect(lifecycleClient).toMatchObject({
      service: "lifecycle",
      name: "ipam.allocate request",
      kind: CLIENT,
    });
    expect(lifecycleClient?.parentSpanId).toBe(handler.spanId);

    // ipam's queries are in the trace, under its handler span.
    for (const span of pgSpans) expect(ancestry(span).map((s) => s.spanId)).toContain(allocate.spanId);
    // lifecycle's insert of the server is there too, under its handler.
    const lifecyclePg = inTrace().filter((s) => s.service === "lifecycle" && s.name.startsWith("pg."));
    expect(lifecyclePg.length).toBeGreaterThan(0);
    for (const span of lifecyclePg) expect(ancestry(span).map((s) => s.spanId)).toContain(handler.spanId);

    // Later, ipam consumes the provisioning event: a consumer span of its own trace, linked to ours.
    const consumer = await eventually(
      async () =>
        receiver.spans.find(
          (s) => s.service === "ipam" && s.kind === CONSUMER && s.links.some((l) => l.traceId === traceId),
        ),
      10_000,
      "ipam's consumer span linked to the request",
    );
    expect(consumer.traceId).not.toBe(traceId);
    // A batch links to the change behind each of its events.
    expect(consumer.links.find((l) => l.traceId === traceId)?.spanId).toBe(handler.spanId);
    expect(Number(consumer.attributes["messaging.batch.message_count"])).toBe(consumer.links.length);
    expect(consumer.attributes["messaging.destination.name"]).toMatch(/events\.server\.provisioning$/);

    // The log lines of the request carry the trace id, in every service that handled it.
    const logLines = (p: ServiceProcess) =>
      p.output
        .join("")
        .split("\n")
        .filter((l) => l.startsWith("{"))
        .map((l) => JSON.parse(l) as Record<string, unknown>);
    const lifecycleProcess = processes.find((p) => p.name === "lifecycle") as ServiceProcess;
    const provisioned = await eventually(
      async () =>
        logLines(lifecycleProcess).find((l) => l.msg === "server provisioned" && l.server_id === serverId),
      5_000,
      "lifecycle's log line",
    );
    expect(provisioned).toMatchObject({ trace_id: traceId, request_id: requestId });
    expect(provisioned.span_id).toMatch(/^[0-9a-f]{16}$/);
    const gatewayLines = logLines(gateway).filter((l) => l.request_id === requestId);
    expect(gatewayLines.length).toBeGreaterThan(0);
    for (const line of gatewayLines) expect(line.trace_id).toBe(traceId);

    // And lifecycle's log of the server names the trace that created it.
    const log = await api.get(`/servers/${serverId}/logs`);
    const fromRequest = log.body.items.filter((e: { request_id: string }) => e.request_id === requestId);
    expect(fromRequest.some((e: { trace_id: string | null }) => e.trace_id === traceId)).toBe(true);
    const first = fromRequest.find((e: { to_state: string | null }) => e.to_state === "provisioning");
    expect(first?.trace_id).toBe(traceId);
  });
});

describe("with no exporter, a request still runs in one trace", () => {
  let database: TestDatabase;
  const processes: ServiceProcess[] = [];

  beforeAll(async () => {
    database = await createTestDatabase(inject("postgresAdminUrl"));
    await startTraced(processes, database, { OTEL_EXPORTER_OTLP_ENDPOINT: undefined });
  });
  afterAll(async () => {
    for (const p of processes.reverse()) await p.stop();
    await database?.drop();
  });

  const gatewayApi = () => client(`http://127.0.0.1:${processes.find((p) => p.name === "gateway")?.port}`);
  /** The log entries a request wrote into the new server's log. */
  const logOf = async (serverId: string) => {
    const log = await gatewayApi().get(`/servers/${serverId}/logs`);
    return log.body.items as {
      to_state: string | null;
      trace_id: string | null;
      request_id: string | null;
    }[];
  };

  it("takes up the caller's traceparent: the server's log and every service's log lines name its trace", async () => {
    const traceId = randomBytes(16).toString("hex");
    const requestId = `untraced-${randomUUID()}`;
    const created = await gatewayApi().post(
      "/servers",
      { region: "us-east-1", type: "t2.micro" },
      { traceparent: `00-${traceId}-${randomBytes(8).toString("hex")}-01`, "X-Request-Id": requestId },
    );
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const first = (await logOf(created.body.id)).find((e) => e.to_state === "provisioning");
    expect(first?.trace_id).toBe(traceId);
    for (const p of processes.filter((p) => p.name !== "ipam")) {
      const lines = await eventually(
        async () => {
          const mine = p.output
            .join("")
            .split("\n")
            .filter((l) => l.includes(requestId))
            .map((l) => JSON.parse(l) as Record<string, unknown>);
          return mine.length > 0 ? mine : undefined;
        },
        5_000,
        `${p.name}'s log lines of the request`,
      );
      for (const line of lines) expect(line.trace_id, `${p.name}: ${line.msg}`).toBe(traceId);
    }
  });

  it("provisions stored together keep each its own trace and request id", async () => {
    const sent = Array.from({ length: 30 }, () => ({
      traceId: randomBytes(16).toString("hex"),
      requestId: `together-${randomUUID()}`,
    }));
    const created = await Promise.all(
      sent.map(({ traceId, requestId }) =>
        gatewayApi().post(
          "/servers",
          { region: "eu-west-1", type: "t2.micro" },
          { traceparent: `00-${traceId}-${randomBytes(8).toString("hex")}-01`, "X-Request-Id": requestId },
        ),
      ),
    );
    const ids = created.map((res) => {
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      return res.body.id as string;
    });
    for (const [i, id] of ids.entries()) {
      const first = (await logOf(id)).find((e) => e.to_state === "provisioning");
      expect(first).toMatchObject({ trace_id: sent[i]?.traceId, request_id: sent[i]?.requestId });
    }
    // Log entries are never updated: their xmin is the transaction that stored the server.
    const db = new pg.Client({ connectionString: database.url });
    await db.connect();
    try {
      const stores = await db.query<{ n: number }>(
        `SELECT count(DISTINCT xmin::text)::int AS n FROM lifecycle.server_events
         WHERE server_id = ANY($1::uuid[]) AND to_state = 'provisioning'`,
        [ids],
      );
      expect(stores.rows[0]?.n).toBeLessThan(ids.length);
    } finally {
      await db.end();
    }
  });

  it("starts a trace of its own for a caller that sends none", async () => {
    const [a, b] = await Promise.all(
      [1, 2].map(() => gatewayApi().post("/servers", { region: "us-east-1", type: "t2.micro" })),
    );
    const traces = [];
    for (const created of [a, b]) {
      expect(created?.status).toBe(201);
      const first = (await logOf(created?.body.id)).find((e) => e.to_state === "provisioning");
      expect(first?.trace_id).toMatch(/^[0-9a-f]{32}$/);
      traces.push(first?.trace_id);
    }
    expect(traces[0]).not.toBe(traces[1]);
  });
});
