import { type Bus, type Db, type HandlerMetrics, securityGroupUsers } from "@cloudsim/shared";
import { sql } from "drizzle-orm";

/** For ipam's DeleteSecurityGroup: an instance that has not ended and is in the group (the GIN index finds it). */
export function serveSecurityGroupUsers(bus: Bus, db: Db, metrics: HandlerMetrics) {
  bus.serve(
    securityGroupUsers.inUse,
    async ({ group_id }) => {
      const rows = await db.execute<{ instance_id: string }>(sql`
        SELECT instance_id FROM lifecycle.servers
        WHERE security_groups @> ${JSON.stringify([{ id: group_id }])}::jsonb
          AND state NOT IN ('terminated', 'error')
        LIMIT 1`);
      return { instance_id: rows.rows[0]?.instance_id ?? null };
    },
    metrics,
  );
}
