import {
  ActionBody,
  type Bus,
  billing,
  ListServersParams,
  LogPage,
  LogsQuery,
  lifecycle,
  ProvisionBody,
  Server,
  ServerPage,
  SimulatedFailure,
} from "@cloudsim/shared";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { ownerOf, scopeOf } from "../auth.ts";
import { Problem } from "../errors.ts";
import { IdParams, isServerId } from "./server-id.ts";

const simulateFailure = <T extends z.ZodType>(values: T) =>
  values.optional().describe("Makes this request's timed state end in error, to test failure handling");

const ProvisionHeaders = z
  .object({
    "idempotency-key": z
      .string()
      .min(1)
      .max(255)
      .optional()
      .describe("A retry with the same key and body returns the same server; another body is 409"),
    "x-simulate-failure": simulateFailure(z.literal("provision")),
  })
  .loose();
const ActionHeaders = z.object({ "x-simulate-failure": simulateFailure(SimulatedFailure) }).loose();

const problems = { 400: Problem, 404: Problem, 409: Problem, 503: Problem };

export const serverRoutes =
  (bus: Bus): FastifyPluginAsyncZod =>
  async (app) => {
    for (const url of ["/servers", "/server"]) {
      app.post(
        url,
        {
          schema: {
            tags: ["servers"],
            summary: url === "/server" ? "Provision a server (the original path)" : "Provision a server",
            body: ProvisionBody,
            headers: ProvisionHeaders,
            response: { 201: Server, ...problems },
          },
        },
        async (request, reply) => {
          const { server, replayed } = await bus.request(
            lifecycle.provision,
            {
              tenant_id: ownerOf(request),
              server: request.body,
              idempotency_key: request.headers["idempotency-key"],
              simulate_failure: request.headers["x-simulate-failure"],
            },
            { requestId: request.id },
          );
          if (replayed) reply.header("idempotent-replayed", "true");
          return reply.code(201).header("location", `/servers/${server.id}`).send(server);
        },
      );
    }

    app.get(
      "/servers",
      {
        schema: {
          tags: ["servers"],
          summary: "List servers, newest first",
          querystring: ListServersParams,
          response: { 200: ServerPage, ...problems },
        },
      },
      (request) => {
        const { status, ...query } = request.query;
        return bus.request(
          lifecycle.list,
          { ...query, state: query.state ?? status, tenant_id: scopeOf(request) },
          { requestId: request.id },
        );
      },
    );

    app.get(
      "/servers/:id",
      {
        schema: {
          tags: ["servers"],
          summary: "Get a server",
          params: IdParams,
          response: { 200: Server, ...problems },
        },
      },
      async (request) => {
        const ctx = { requestId: request.id };
        const { id } = request.params;
        const found = bus.request(lifecycle.get, { id, tenant_id: scopeOf(request) }, ctx);
        // Billing is asked at the same time (after, for an instance id: billing knows the UUID);
        // when it does not answer the server is shown without it.
        const usageOf = (serverId: string) => bus.request(billing.usage, { server_id: serverId }, ctx);
        const [server, usage] = await Promise.allSettled([
          found,
          isServerId(id) ? usageOf(id) : found.then((s) => usageOf(s.id)),
        ]);
        if (server.status === "rejected") throw server.reason;
        if (usage.status === "rejected") request.log.warn({ err: usage.reason }, "billing did not answer");
        return { ...server.value, billing: usage.status === "fulfilled" ? usage.value : null };
      },
    );

    app.get(
      "/servers/:id/logs",
      {
        schema: {
          tags: ["servers"],
          summary: "A server's log, newest first",
          params: IdParams,
          querystring: LogsQuery,
          response: { 200: LogPage, ...problems },
        },
      },
      (request) =>
        bus.request(
          lifecycle.logs,
          { ...request.query, id: request.params.id, tenant_id: scopeOf(request) },
          { requestId: request.id },
        ),
    );

    app.post(
      "/servers/:id/action",
      {
        schema: {
          tags: ["servers"],
          summary: "Start, stop, reboot or terminate a server",
          description:
            "202 with the server in its timed state (starting, stopping, rebooting, terminating). " +
            "An action not allowed in the current state is 409 naming the state and the allowed actions.",
          params: IdParams,
          body: ActionBody,
          headers: ActionHeaders,
          response: { 202: Server, ...problems },
        },
      },
      async (request, reply) => {
        const server = await bus.request(
          lifecycle.action,
          {
            id: request.params.id,
            tenant_id: scopeOf(request),
            action: request.body.action,
            simulate_failure: request.headers["x-simulate-failure"] as
              | z.infer<typeof SimulatedFailure>
              | undefined,
          },
          { requestId: request.id },
        );
        return reply.code(202).send(server);
      },
    );

    app.delete(
      "/servers/:id",
      {
        schema: {
          tags: ["servers"],
          summary: "Terminate a server (the same as the terminate action)",
          params: IdParams,
          response: { 202: Server, ...problems },
        },
      },
      async (request, reply) => {
        const server = await bus.request(
          lifecycle.action,
          { id: request.params.id, tenant_id: scopeOf(request), action: "terminate" },
          { requestId: request.id },
        );
        return reply.code(202).send(server);
      },
    );
  };
