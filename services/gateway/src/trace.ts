import { createServer, type ServerOptions } from "node:http";
import { context, httpTraceContext, trace } from "@cloudsim/shared";
import type { FastifyServerFactory } from "fastify";

/** What fastify sets on a server it makes itself (lib/server.js), with its defaults filled in. */
interface FastifyHttpOptions {
  http?: ServerOptions;
  keepAliveTimeout: number;
  requestTimeout: number;
  connectionTimeout: number;
}

/**
 * The gateway's HTTP server, on which every request runs in a trace, so that all its log lines
 * and its NATS requests name one. When spans are exported the HTTP instrumentation has opened
 * the request's span already; otherwise (tracing.ts instruments no module then) the request
 * takes up the caller's traceparent, or starts a trace. The timeouts are fastify's own.
 */
export const serverInTrace: FastifyServerFactory = (handler, fastifyOptions) => {
  const options = fastifyOptions as unknown as FastifyHttpOptions;
  const server = createServer(options.http ?? {}, (req, res) => {
    if (trace.getActiveSpan()) return handler(req, res);
    const active = httpTraceContext(req.headers);
    // The body and the end of the response are events of these streams: they run in it too.
    context.bind(active, req);
    context.bind(active, res);
    context.with(active, () => handler(req, res));
  });
  server.keepAliveTimeout = options.keepAliveTimeout;
  server.requestTimeout = options.requestTimeout;
  server.setTimeout(options.connectionTimeout);
  return server;
};
