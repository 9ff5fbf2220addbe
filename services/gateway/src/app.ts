import { randomUUID } from "node:crypto";
import { type Bus, type Clock, type Logger, REQUEST_ID_HEADER, type Registry } from "@cloudsim/shared";
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from "fastify";
import { validatorCompiler, type ZodTypeProvider } from "fastify-type-provider-zod";
import { installAuth } from "./auth.ts";
import type { GatewayConfig } from "./config.ts";
import { installDocs } from "./docs.ts";
import { secretsKey } from "./ec2/caller.ts";
import { ec2Face } from "./ec2/face.ts";
import { installErrorHandlers } from "./errors.ts";
import { eventRoutes } from "./events/route.ts";
import { installHttpMetrics } from "./metrics.ts";
import { openstackFace } from "./openstack/face.ts";
import { installOverloadGuard } from "./overload.ts";
import { adminRoutes } from "./routes/admin.ts";
import { billingRoutes } from "./routes/billing.ts";
import { clockRoutes } from "./routes/clock.ts";
import { consoleRoutes } from "./routes/console.ts";
import { healthRoutes } from "./routes/health.ts";
import { imageRoutes } from "./routes/images.ts";
import { ipamRoutes } from "./routes/ipam.ts";
import { reaperRoutes } from "./routes/reaper.ts";
import { resourceRoutes } from "./routes/resources.ts";
import { serverRoutes } from "./routes/servers.ts";
import { serverInTrace } from "./trace.ts";

const requestIdPattern = /^[A-Za-z0-9_.:-]{1,128}$/;

/** The client's X-Request-Id when it is sane, otherwise a new one. */
function requestId(raw: string | string[] | undefined): string {
  return typeof raw === "string" && requestIdPattern.test(raw) ? raw : randomUUID();
}

export interface GatewayDeps {
  bus: Bus;
  /** The time of simulated things (the EC2 face's instance times): realClock, or a test's own. */
  clock: Clock;
  /** True once the gateway is shutting down: /readyz answers 503 from then on. */
  draining?: () => boolean;
  log: Logger;
  registry: Registry;
  config: Pick<
    GatewayConfig,
    | "BODY_LIMIT"
    | "PUBLIC_URL"
    | "ADMIN_API_KEY"
    | "AUTH_REQUIRED"
    | "AUTH_CACHE_TTL"
    | "RATE_LIMIT_PER_MINUTE"
    | "AWS_SECRETS_KEY"
    | "EC2_TERMINATED_RETENTION"
    | "EC2_STATUS_CHECK_DELAY"
    | "MAX_IN_FLIGHT"
    | "AUTH_CACHE_SIZE"
    | "AUTH_FAILURES_PER_MINUTE"
    | "CLOCK_ADVANCE_TIMEOUT"
    | "EVENTS_MAX_STREAMS_PER_TENANT"
    | "EVENTS_HEARTBEAT"
    | "EVENTS_CLIENT_BUFFER"
    | "EVENTS_SLOW_CLIENT_TIMEOUT"
    | "OPENSTACK_TOKEN_TTL"
    | "OPENSTACK_MAX_PAGE"
  >;
}

/** The HTTP API; builds routes only, opens nothing. */
export async function buildApp({
  bus,
  clock,
  log,
  registry,
  config,
  draining = () => false,
}: GatewayDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: log as FastifyBaseLogger,
    bodyLimit: config.BODY_LIMIT,
    requestIdHeader: false,
    logController: new LogController({ requestIdLogLabel: "request_id" }),
    genReqId: (req) => requestId(req.headers["x-request-id"]),
    serverFactory: serverInTrace,
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  // Replies were validated against their contract when they came off NATS (Bus.request); checking
  // them again while serialising would only spend CPU. The response schemas still document the API.
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  app.addHook("onRequest", async (request, reply) => {
    reply.header(REQUEST_ID_HEADER, request.id);
    reply.header("x-content-type-options", "nosniff");
    reply.header("x-frame-options", "DENY");
  });
  installErrorHandlers(app);
  installOverloadGuard(app, config.MAX_IN_FLIGHT);
  installHttpMetrics(app, registry);
  const { limit } = installAuth(app, bus, config);

  await installDocs(app, config.PUBLIC_URL);

  await app.register(healthRoutes(bus, registry, draining));
  await app.register(serverRoutes(bus));
  await app.register(ipamRoutes(bus));
  await app.register(imageRoutes(bus));
  await app.register(billingRoutes(bus));
  await app.register(reaperRoutes(bus));
  await app.register(resourceRoutes(bus));
  await app.register(eventRoutes(bus, registry, config));
  await app.register(clockRoutes(bus, config.CLOCK_ADVANCE_TIMEOUT));
  await app.register(adminRoutes(bus, secretsKey(config)));
  await app.register(consoleRoutes());
  await app.register(ec2Face(bus, config, limit, clock));
  await app.register(openstackFace(bus, config, limit));
  return app;
}
