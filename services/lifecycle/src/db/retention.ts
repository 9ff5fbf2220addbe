import type { Clock, Retention } from "@cloudsim/shared";

/**
 * Idempotency-Keys are kept IDEMPOTENCY_KEY_RETENTION after the request that made them. A
 * ClientToken, as in EC2, stays valid until its reservation's instances have all been
 * terminated (or failed) for that long: a retry of a long-running launch still finds it. Both
 * on `clock` (the service's): their created_at and updated_at are its time.
 */
export function lifecycleRetentions(retentionMs: number, clock: Clock): Retention[] {
  return [
    { table: "lifecycle.idempotency_keys", expired: "t.created_at < $1", retentionMs, clock },
    {
      table: "lifecycle.client_tokens",
      expired: `t.created_at < $1 AND NOT EXISTS (
        SELECT FROM lifecycle.servers s WHERE s.reservation_id = t.reservation_id
          AND (s.state NOT IN ('terminated', 'error') OR s.updated_at >= $1))`,
      retentionMs,
      clock,
    },
  ];
}
