import {
  ApiKeyCreated,
  type Bus,
  CreateTenantBody,
  ListTenantsQuery,
  Tenant,
  TenantPage,
  tenants,
  UpdateTenantBody,
} from "@cloudsim/shared";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { hashKey, newApiKey, requireAdmin } from "../auth.ts";
import { sealSecret } from "../ec2/secrets.ts";
import { Problem } from "../errors.ts";

const TenantParams = z.object({ id: z.string().max(64).describe("Tenant id") });
const KeyParams = z.object({ id: z.string().max(100).describe("API key id") });
const problems = { 400: Problem, 401: Problem, 403: Problem, 404: Problem, 503: Problem };

/** Tenants and their API keys; the admin key only (403 for a tenant's key). */
export const adminRoutes =
  (bus: Bus, secrets: Buffer | null): FastifyPluginAsyncZod =>
  async (app) => {
    app.addHook("onRequest", async (request) => requireAdmin(request));

    app.post(
      "/admin/tenants",
      {
        schema: {
          tags: ["admin"],
          summary: "Create a tenant",
          body: CreateTenantBody,
          response: { 201: Tenant, ...problems },
        },
      },
      async (request, reply) =>
        reply.code(201).send(await bus.request(tenants.create, request.body, { requestId: request.id })),
    );

    app.get(
      "/admin/tenants",
      {
        schema: {
          tags: ["admin"],
          summary: "List tenants with their limits, oldest first, a page at a time",
          querystring: ListTenantsQuery,
          response: { 200: TenantPage, ...problems },
        },
      },
      (request) => bus.request(tenants.list, request.query, { requestId: request.id }),
    );

    app.patch(
      "/admin/tenants/:id",
      {
        schema: {
          tags: ["admin"],
          summary: "Set a tenant's limits (null: back to TENANT_MAX_SERVERS / TENANT_MAX_VCPUS)",
          params: TenantParams,
          body: UpdateTenantBody,
          response: { 200: Tenant, ...problems },
        },
      },
      (request) =>
        bus.request(tenants.update, { id: request.params.id, ...request.body }, { requestId: request.id }),
    );

    app.post(
      "/admin/tenants/:id/keys",
      {
        schema: {
          tags: ["admin"],
          summary: "Create an API key for a tenant; the key is shown this once",
          params: TenantParams,
          response: { 201: ApiKeyCreated, ...problems },
        },
      },
      async (request, reply) => {
        // Made here and sent on as its hash only: the key itself never crosses NATS nor reaches a table.
        const key = newApiKey();
        const created = await bus.request(
          tenants.createKey,
          {
            tenant_id: request.params.id,
            key_hash: hashKey(key),
            // Sealed, so the EC2 API can check signatures made with the key as an AWS secret.
            sealed_secret: secrets ? sealSecret(key, secrets) : undefined,
          },
          { requestId: request.id },
        );
        return reply
          .code(201)
          .header("cache-control", "no-store")
          .send({ ...created, key });
      },
    );

    app.delete(
      "/admin/keys/:id",
      {
        schema: {
          tags: ["admin"],
          summary: "Revoke an API key (at once on every gateway)",
          params: KeyParams,
          response: { 204: z.null(), ...problems },
        },
      },
      async (request, reply) => {
        await bus.request(tenants.revokeKey, { id: request.params.id }, { requestId: request.id });
        return reply.code(204).send(null);
      },
    );
  };
