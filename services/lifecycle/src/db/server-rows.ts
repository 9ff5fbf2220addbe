import { eq, sql } from "drizzle-orm";
import type { ServerRow } from "../domain/server-view.ts";
import { servers } from "./schema.ts";

/** Every servers row of one tenant (when given) or of all (null). */
export const ofTenant = (tenantId: string | null) =>
  tenantId === null ? [] : [eq(servers.tenantId, tenantId)];

/** A timestamp as the API and the events show it: ISO 8601 in UTC, cut to the millisecond (as JS Dates are). */
export const isoMs = (column: string) =>
  `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/** A server's subnet and VPC: its own, or (launched without one) its zone's default subnet and its region's default VPC. */
export const subnetIdColumn =
  "coalesce(subnet_id, 'subnet-' || substr(md5('subnet:' || availability_zone), 1, 17))";
export const vpcIdColumn = "coalesce(vpc_id, 'vpc-' || substr(md5('vpc:' || region), 1, 17))";

/** A ServerRow's columns (selects and RETURNING clauses), read with fromReturned. */
export const returnedServer = sql.raw(
  `id, instance_id, reservation_id, tenant_id, name, region, type, image, availability_zone, state,
   host(ip_address) AS ip_address, key_name, ${subnetIdColumn} AS subnet_id, ${vpcIdColumn} AS vpc_id,
   security_groups, labels, tags, ${isoMs("created_at")} AS created_at, ${isoMs("updated_at")} AS updated_at, ${isoMs("running_since")} AS running_since`,
);

/** A servers row as `returnedServer` selects it. */
export interface ReturnedServer extends Record<string, unknown> {
  id: string;
  instance_id: string;
  reservation_id: string;
  tenant_id: string;
  name: string;
  region: string;
  type: string;
  image: string;
  availability_zone: string;
  state: string;
  ip_address: string | null;
  key_name: string | null;
  subnet_id: string;
  vpc_id: string;
  security_groups: { id: string; name: string }[];
  labels: string[];
  tags: Record<string, string>;
  created_at: string;
  updated_at: string;
  running_since: string | null;
}

export const fromReturned = (r: ReturnedServer): ServerRow => ({
  id: r.id,
  instanceId: r.instance_id,
  reservationId: r.reservation_id,
  tenantId: r.tenant_id,
  name: r.name,
  region: r.region,
  type: r.type,
  image: r.image,
  availabilityZone: r.availability_zone,
  state: r.state,
  ipAddress: r.ip_address,
  keyName: r.key_name,
  subnetId: r.subnet_id,
  vpcId: r.vpc_id,
  securityGroups: r.security_groups,
  labels: r.labels,
  tags: r.tags,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  runningSince: r.running_since,
});
