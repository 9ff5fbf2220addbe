import { type Bus, type HandlerMetrics, keyRevokedSubject, tenantCursor, tenants } from "@cloudsim/shared";
import type { TenantRepository } from "./db.ts";

/** Tenants and API keys, for the gateway (authentication) and the admin routes. */
export function serveTenants(bus: Bus, repo: TenantRepository, metrics: HandlerMetrics) {
  bus.serve(tenants.authenticate, ({ key_hash }) => repo.authenticate(key_hash), metrics);
  bus.serve(tenants.create, ({ name }) => repo.create(name), metrics);
  bus.serve(
    tenants.list,
    async ({ limit, cursor }) =>
      tenantCursor.page(await repo.list(limit + 1, cursor && tenantCursor.keyOf(cursor)), limit, (t) => t.id),
    metrics,
  );
  bus.serve(tenants.usage, ({ id }) => repo.usage(id), metrics);
  bus.serve(tenants.update, ({ id, ...limits }) => repo.update(id, limits), metrics);
  bus.serve(
    tenants.createKey,
    ({ tenant_id, key_hash, sealed_secret }) => repo.createKey(tenant_id, key_hash, sealed_secret),
    metrics,
  );
  bus.serve(tenants.awsCredentials, ({ key_id }) => repo.awsCredentials(key_id), metrics);
  bus.serve(
    tenants.revokeKey,
    async ({ id }, ctx) => {
      const { keyHash, ...key } = await repo.revokeKey(id);
      // Gateways drop the key from their caches at once; their short TTL covers a lost message.
      // Flushed before the answer: a reply handed over in memory (LOCAL_REQUESTS) would otherwise
      // reach the gateway before the announcement, and the key work for one more request.
      bus.nc.publish(bus.prefix + keyRevokedSubject, keyHash);
      await bus.nc.flush();
      ctx.log.info({ key_id: id, tenant_id: key.tenant_id }, "API key revoked");
      return key;
    },
    metrics,
  );
}
