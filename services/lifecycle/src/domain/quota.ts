import { AppError } from "@cloudsim/shared";

/** The configured limits of a tenant that has none of its own. */
export interface QuotaDefaults {
  maxServers: number;
  maxVcpus: number;
}

/** A tenant's own limits (null: the default) and what its servers use now. */
export interface TenantQuota {
  maxServers: number | null;
  maxVcpus: number | null;
  serversInUse: number;
  vcpusInUse: number;
}

/** Throws QUOTA_EXCEEDED when adding `add` to the tenant's usage would pass one of its limits. */
export function assertWithinQuota(
  tenantId: string,
  tenant: TenantQuota | undefined,
  add: { servers: number; vcpus: number },
  defaults: QuotaDefaults,
): void {
  if (!tenant) throw new AppError("NOT_FOUND", `tenant ${tenantId} does not exist`, { tenant_id: tenantId });
  const over = (quota: Refusal["quota"], limit: number, usage: number, requested: number) =>
    quotaExceeded({ tenant_id: tenantId, quota, limit, usage, requested });
  const maxServers = tenant.maxServers ?? defaults.maxServers;
  const maxVcpus = tenant.maxVcpus ?? defaults.maxVcpus;
  if (add.servers > 0 && tenant.serversInUse + add.servers > maxServers)
    throw over("max_servers", maxServers, tenant.serversInUse, add.servers);
  if (add.vcpus > 0 && tenant.vcpusInUse + add.vcpus > maxVcpus)
    throw over("max_vcpus", maxVcpus, tenant.vcpusInUse, add.vcpus);
}

/** How many more servers of `vcpus` each the tenant's quota has room for now (0 for no tenant). */
export function quotaRoom(tenant: TenantQuota | undefined, vcpus: number, quota: QuotaDefaults): number {
  if (!tenant) return 0;
  const servers = (tenant.maxServers ?? quota.maxServers) - tenant.serversInUse;
  const cpus = Math.floor(((tenant.maxVcpus ?? quota.maxVcpus) - tenant.vcpusInUse) / vcpus);
  return Math.max(0, Math.min(servers, cpus));
}

/** Which limit a request would pass, and by how much. */
export interface Refusal {
  tenant_id: string;
  quota: "max_servers" | "max_vcpus";
  limit: number;
  usage: number;
  requested: number;
}

export const quotaExceeded = (r: Refusal) =>
  new AppError(
    "QUOTA_EXCEEDED",
    `${r.quota} quota exceeded: ${r.usage} in use + ${r.requested} > ${r.limit}`,
    {
      ...r,
    },
  );
