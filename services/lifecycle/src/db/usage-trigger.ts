import { AppError } from "@cloudsim/shared";
import { sql } from "drizzle-orm";
import { type QuotaDefaults, quotaExceeded } from "../domain/quota.ts";

/**
 * Sets, for this statement's transaction only, the configured default limits (the usage
 * trigger, migration 0005, checks a tenant without its own against them) and the request's
 * deadline (migration 0008).
 */
export const setQuotaAndDeadlineSettings = (quota: QuotaDefaults, deadline: number | undefined) =>
  sql`SELECT set_config('cloudsim.max_servers', ${String(quota.maxServers)}, true) AS servers_limit,
             set_config('cloudsim.max_vcpus', ${String(quota.maxVcpus)}, true) AS vcpus_limit,
             set_config('cloudsim.deadline', ${deadline === undefined ? "" : String(deadline)}, true) AS deadline`;

/** The SQLSTATE the usage trigger raises when a write would pass a tenant's limit. */
const QUOTA_REFUSED = "CQ001";
/** The SQLSTATE the usage trigger raises when the write's request gave up while it waited (migration 0008). */
const DEADLINE_PASSED = "CD001";

/**
 * A write the usage trigger refused: QUOTA_EXCEEDED (its detail names the quota), or TIMEOUT when
 * it waited for the tenant's row past its request's deadline (nothing is stored then).
 */
export function quotaRefusal(err: unknown): AppError | undefined {
  const pgErr = ((err as { cause?: unknown })?.cause ?? err) as { code?: string; detail?: string };
  if (pgErr?.code === DEADLINE_PASSED) {
    return new AppError(
      "TIMEOUT",
      "the request's deadline passed while it waited for its tenant: nothing was stored",
      {
        reason: "deadline",
      },
    );
  }
  if (pgErr?.code !== QUOTA_REFUSED || !pgErr.detail) return undefined;
  return quotaExceeded(JSON.parse(pgErr.detail));
}
