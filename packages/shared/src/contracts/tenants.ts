import { z } from "zod";
import { defineCommand } from "./command.ts";
import { pageCursor, pageLimit } from "./paging.ts";

/** The tenant every keyless request acts as when AUTH_REQUIRED=false; it always exists. */
export const DEFAULT_TENANT = "default";

export const TenantId = z.string().min(1).max(64).describe("Tenant id");

/** The scope of a request that may see every tenant's servers: the admin key's, and nobody else's. */
export const ALL_TENANTS = "*";

/**
 * The tenant a request acts for, set by the gateway from the API key (never from the HTTP body), or
 * ALL_TENANTS. Required: a request that names no scope is refused rather than read as every tenant.
 * Handlers see every tenant as null.
 */
export const TenantScope = z
  .union([z.literal(ALL_TENANTS), TenantId])
  .transform((scope) => (scope === ALL_TENANTS ? null : scope));

export const Tenant = z
  .object({
    id: z.string(),
    name: z.string(),
    max_servers: z.number().int().describe("Servers that are not terminated, at most"),
    max_vcpus: z.number().int().describe("vCPUs of servers provisioning, starting or running, at most"),
    created_at: z.string().describe("RFC 3339 time"),
  })
  .meta({ id: "Tenant" });
export type Tenant = z.infer<typeof Tenant>;

/** POST /admin/tenants */
export const CreateTenantBody = z
  .object({
    name: z
      .string()
      .regex(
        /^[A-Za-z0-9][A-Za-z0-9 _.-]{0,62}$/,
        "names are 1-63 of A-Z a-z 0-9 space _ . - starting with a letter or digit",
      ),
  })
  .strict();

/** A quota: the most servers or vCPUs a tenant may have. */
const QuotaLimit = z.number().int().min(0).max(1_000_000);

/** PATCH /admin/tenants/{id}: null goes back to the configured default. */
export const UpdateTenantBody = z
  .object({ max_servers: QuotaLimit.nullable().optional(), max_vcpus: QuotaLimit.nullable().optional() })
  .strict();

export const ApiKeyCreated = z
  .object({
    id: z.string(),
    tenant_id: z.string(),
    key: z.string().describe("The key itself: shown this once, stored only as its SHA-256 hash"),
    created_at: z.string(),
  })
  .meta({ id: "ApiKeyCreated" });

/** Tenant pages: after the tenant (by id) that ended the previous one. */
export const tenantCursor = pageCursor((key) => /^[A-Za-z0-9_-]{1,64}$/.test(key));

/** GET /admin/tenants' query. */
export const ListTenantsQuery = z.object({ limit: pageLimit(100), cursor: tenantCursor.schema }).strict();

export const TenantPage = z
  .object({
    items: z.array(Tenant).describe("Oldest first"),
    next_cursor: z.string().nullable().describe("The cursor of the next page; null on the last"),
  })
  .meta({ id: "TenantPage" });

const KeyHash = z.string().regex(/^[0-9a-f]{64}$/, "a hex SHA-256");

/** Commands answered by lifecycle, which owns tenants, API keys and quotas. */
export const tenants = {
  /** Which tenant a key (by its hash) belongs to; UNAUTHORIZED when none or revoked. */
  authenticate: defineCommand("lifecycle", "authenticate", {
    request: z.object({ key_hash: KeyHash }),
    reply: z.object({ tenant_id: z.string(), key_id: z.string() }),
  }),
  create: defineCommand("lifecycle", "tenant_create", {
    request: CreateTenantBody,
    reply: Tenant,
  }),
  list: defineCommand("lifecycle", "tenant_list", {
    request: ListTenantsQuery,
    reply: TenantPage,
  }),
  /** A tenant's limits and what its servers use of them now (Nova's limits); NOT_FOUND for none. */
  usage: defineCommand("lifecycle", "tenant_usage", {
    request: z.object({ id: TenantId }),
    reply: z.object({
      tenant: Tenant,
      servers_in_use: z.number().int(),
      vcpus_in_use: z.number().int(),
      memory_mib_in_use: z.number().int().describe("Of the servers whose vCPUs count"),
    }),
  }),
  update: defineCommand("lifecycle", "tenant_update", {
    request: UpdateTenantBody.extend({ id: TenantId }),
    reply: Tenant,
  }),
  /** A key's AWS secret (the key, sealed by the gateway), to verify a SigV4 signature with. */
  awsCredentials: defineCommand("lifecycle", "aws_credentials", {
    request: z.object({ key_id: z.string().max(128) }),
    reply: z.object({ tenant_id: z.string(), key_id: z.string(), sealed_secret: z.string().nullable() }),
  }),
  createKey: defineCommand("lifecycle", "key_create", {
    request: z.object({
      tenant_id: TenantId,
      key_hash: KeyHash,
      sealed_secret: z.string().max(1024).optional().describe("The key sealed for SigV4 checks"),
    }),
    reply: z.object({ id: z.string(), tenant_id: z.string(), created_at: z.string() }),
  }),
  revokeKey: defineCommand("lifecycle", "key_revoke", {
    request: z.object({ id: z.string().max(100) }),
    reply: z.object({ id: z.string(), tenant_id: z.string() }),
  }),
};

/** Core NATS subject (after the deployment prefix) on which lifecycle announces a revoked key's hash. */
export const keyRevokedSubject = "auth.key_revoked";
