import { type Db, zonesOf } from "@cloudsim/shared";
import { formatCidr } from "@cloudsim/shared/cidr";
import { sql } from "drizzle-orm";
import type { PoolSpec } from "../domain/pools.ts";
import { defaultSubnetIdSql, defaultVpcIdSql } from "./scope.ts";

/**
 * Each region's default VPC, every tenant's, with the region pool's CIDR, and a default subnet
 * per zone, each showing that CIDR and drawing from the region's pool (the pools predate subnets).
 */
export async function ensureDefaultNetwork(db: Db, specs: readonly PoolSpec[]): Promise<void> {
  await db.transaction(async (tx) => {
    for (const { region, cidr } of specs) {
      const block = formatCidr(cidr);
      await tx.execute(sql`
        INSERT INTO ipam.vpcs (id, tenant_id, region, cidr, is_default, enable_dns_support, enable_dns_hostnames)
        VALUES (${defaultVpcIdSql(sql`${region}::text`)}, NULL, ${region}, ${block}, true, true, true)
        ON CONFLICT (id) DO UPDATE SET cidr = excluded.cidr`);
      await tx.execute(sql`
        INSERT INTO ipam.subnets (id, vpc_id, tenant_id, region, availability_zone, cidr, pool_id,
                                  default_for_az, map_public_ip_on_launch)
        SELECT ${defaultSubnetIdSql(sql`z`)}, ${defaultVpcIdSql(sql`${region}::text`)}, NULL, ${region}, z,
               ${block}, ${region}, true, true
        FROM unnest(${sql.param(zonesOf(region))}::text[]) AS z
        ON CONFLICT (id) DO UPDATE SET cidr = excluded.cidr`);
    }
  });
}
