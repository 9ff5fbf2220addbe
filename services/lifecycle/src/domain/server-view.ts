import {
  type InstanceTypeName,
  instanceSpec,
  type Region,
  type Server,
  type ServerState,
} from "@cloudsim/shared";

/**
 * A servers row as the repository reads it. Timestamps come as ISO 8601 text in UTC, cut to the
 * millisecond, as the API shows them (Postgres formats them: no Date to parse and print again).
 */
export interface ServerRow {
  id: string;
  instanceId: string;
  reservationId: string;
  tenantId: string;
  name: string;
  region: string;
  type: string;
  image: string;
  availabilityZone: string;
  state: string;
  ipAddress: string | null;
  keyName: string | null;
  subnetId: string;
  vpcId: string;
  securityGroups: { id: string; name: string }[];
  labels: string[];
  tags: Record<string, string>;
  createdAt: string;
  updatedAt: string;
  runningSince: string | null;
}

/** The API's view of a server at `now` (Unix ms, the service's Clock: uptime_seconds counts to it). */
export function toServer(row: ServerRow, now: number): Server {
  const type = row.type as InstanceTypeName;
  const spec = instanceSpec(type);
  const runningSince = row.state === "running" ? row.runningSince : null;
  return {
    id: row.id,
    instance_id: row.instanceId,
    reservation_id: row.reservationId,
    name: row.name,
    region: row.region as Region,
    type,
    image: row.image,
    availability_zone: row.availabilityZone,
    vcpus: spec.vcpus,
    memory_mib: spec.memory_mib,
    state: row.state as ServerState,
    ip_address: row.ipAddress,
    key_name: row.keyName,
    subnet_id: row.subnetId,
    vpc_id: row.vpcId,
    security_groups: row.securityGroups,
    labels: row.labels,
    tags: row.tags,
    created_at: row.createdAt,
    updated_at: row.updatedAt,
    running_since: runningSince,
    uptime_seconds: runningSince ? Math.max(0, Math.floor((now - Date.parse(runningSince)) / 1000)) : 0,
  };
}

/** The name a server gets when the request does not give one. */
export function defaultName(id: string): string {
  return `server-${id.slice(-8)}`;
}
