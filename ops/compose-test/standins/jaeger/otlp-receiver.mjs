// The compose test's stand-in for Jaeger (no registry here to pull it from): it receives OTLP
// over HTTP (protobuf, POST /v1/traces on 4318), keeps the spans in memory, and answers the one
// query the test asks, Jaeger's GET /api/traces/<trace id> on 16686, in Jaeger's shape. Users
// of docker-compose.yml get the real Jaeger.
import { createServer } from "node:http";
import { gunzipSync } from "node:zlib";

/** The fields of one protobuf message: number → raw values (bytes for length-delimited ones). */
function fields(buffer) {
  const found = new Map();
  let at = 0;
  const varint = () => {
    let value = 0n;
    for (let shift = 0n; ; shift += 7n) {
      const byte = buffer[at++];
      value |= BigInt(byte & 0x7f) << shift;
      if (byte < 0x80) return value;
    }
  };
  while (at < buffer.length) {
    const key = Number(varint());
    const wireType = key & 7;
    const take = (length) => {
      at += length;
      return buffer.subarray(at - length, at);
    };
    let value;
    if (wireType === 0) value = varint();
    else if (wireType === 1) value = take(8);
    else if (wireType === 2) value = take(Number(varint()));
    else if (wireType === 5) value = take(4);
    else throw new Error(`unsupported protobuf wire type ${wireType}`);
    const number = key >>> 3;
    found.set(number, [...(found.get(number) ?? []), value]);
  }
  return found;
}
const first = (message, number) => message.get(number)?.[0];
const all = (message, number) => message.get(number) ?? [];
const text = (bytes) => (bytes ? Buffer.from(bytes).toString("utf8") : "");
const hex = (bytes) => (bytes ? Buffer.from(bytes).toString("hex") : "");

/** trace id → spans, each with its service (the resource's service.name). */
const traces = new Map();

// ExportTraceServiceRequest: resource_spans = 1 { resource = 1 { attributes = 1 { key = 1,
// value = 2 { string_value = 1 } } }, scope_spans = 2 { spans = 2 { trace_id = 1, span_id = 2,
// parent_span_id = 4, name = 5, start_time_unix_nano = 7 } } }
function record(request) {
  for (const resourceSpans of all(fields(request), 1).map(fields)) {
    const resource = fields(first(resourceSpans, 1) ?? Buffer.alloc(0));
    const serviceName = all(resource, 1)
      .map(fields)
      .filter((attribute) => text(first(attribute, 1)) === "service.name")
      .map((attribute) => text(first(fields(first(attribute, 2)), 1)))[0];
    for (const scopeSpans of all(resourceSpans, 2).map(fields))
      for (const span of all(scopeSpans, 2).map(fields)) {
        const traceId = hex(first(span, 1));
        const spans = traces.get(traceId) ?? [];
        spans.push({
          spanID: hex(first(span, 2)),
          parentSpanID: hex(first(span, 4)),
          operationName: text(first(span, 5)),
          startTime: Number((first(span, 7) ?? Buffer.alloc(8)).readBigUInt64LE() / 1000n),
          serviceName: serviceName ?? "unknown_service",
        });
        traces.set(traceId, spans);
      }
  }
}

/** One trace as Jaeger's query API answers it: spans, and the processes (services) they ran in. */
function jaegerTrace(traceID, spans) {
  const processIDs = new Map(
    [...new Set(spans.map((span) => span.serviceName))].map((name, i) => [name, `p${i + 1}`]),
  );
  return {
    traceID,
    spans: spans.map(({ serviceName, parentSpanID, ...span }) => ({
      traceID,
      ...span,
      references: parentSpanID ? [{ refType: "CHILD_OF", traceID, spanID: parentSpanID }] : [],
      processID: processIDs.get(serviceName),
    })),
    processes: Object.fromEntries(
      [...processIDs].map(([serviceName, processID]) => [processID, { serviceName, tags: [] }]),
    ),
  };
}

const body = async (request) => {
  const chunks = [];
  for await (const chunk of request) chunks.push(chunk);
  const raw = Buffer.concat(chunks);
  return request.headers["content-encoding"] === "gzip" ? gunzipSync(raw) : raw;
};
const answer = (response, status, type, payload) =>
  response.writeHead(status, { "content-type": type }).end(payload);

const receiver = createServer(async (request, response) => {
  if (request.method !== "POST" || request.url !== "/v1/traces")
    return answer(response, 404, "text/plain", "only POST /v1/traces (OTLP/HTTP protobuf)\n");
  try {
    record(await body(request));
    // An empty ExportTraceServiceResponse: everything accepted.
    answer(response, 200, "application/x-protobuf", Buffer.alloc(0));
  } catch (error) {
    answer(response, 400, "text/plain", `${error.message}\n`);
  }
});

const query = createServer((request, response) => {
  const traceId = /^\/api\/traces\/([0-9a-f]{32})$/.exec(request.url ?? "")?.[1];
  if (request.method !== "GET" || !traceId)
    return answer(response, 404, "application/json", JSON.stringify({ data: null, errors: [{ code: 404 }] }));
  const spans = traces.get(traceId);
  if (!spans)
    return answer(
      response,
      404,
      "application/json",
      JSON.stringify({ data: null, errors: [{ code: 404, msg: "trace not found" }] }),
    );
  answer(response, 200, "application/json", JSON.stringify({ data: [jaegerTrace(traceId, spans)] }));
});

receiver.listen(4318, "0.0.0.0");
query.listen(16686, "0.0.0.0");
process.on("SIGTERM", () => {
  receiver.close();
  query.close();
  process.exit(0);
});
process.stdout.write("OTLP/HTTP receiver on :4318, Jaeger's /api/traces/<id> on :16686 (stand-in)\n");
