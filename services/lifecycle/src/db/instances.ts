import {
  AppError,
  type Clock,
  clockDate,
  type Db,
  type Ec2StateName,
  ec2StateCodes,
  ec2StateOf,
  type Instance,
  type InstanceFilter,
  ROOT_DEVICE,
  type ServerState,
  wildcardRegex,
} from "@cloudsim/shared";
import { type SQL, sql } from "drizzle-orm";
import { isoMs, subnetIdColumn, vpcIdColumn } from "./server-rows.ts";

/** Our states as EC2's names and codes, as SQL (the table is ec2StateOf, in the contracts). */
const stateCase = (value: (name: Ec2StateName) => string) =>
  `CASE state ${Object.entries(ec2StateOf)
    .map(([ours, theirs]) => `WHEN '${ours}' THEN ${value(theirs)}`)
    .join(" ")} END`;

/**
 * Every field of an instance that EC2 shows or filters on, as SQL over a servers row: the same
 * expression answers the field and its filter. Derived ids (owner, subnet, VPC) are stable hashes.
 */
const fields: Record<string, string> = {
  id: "id::text",
  instance_id: "instance_id",
  reservation_id: "reservation_id",
  owner_id:
    "lpad(((('x' || substr(md5(tenant_id), 1, 12))::bit(48)::bigint % 1000000000000)::text), 12, '0')",
  state: "state",
  state_name: stateCase((name) => `'${name}'`),
  state_code: stateCase((name) => String(ec2StateCodes[name])),
  reason: `CASE WHEN state IN ('stopping', 'stopped', 'terminating', 'terminated')
    THEN 'User initiated (' || to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') || ' GMT)' ELSE '' END`,
  state_reason_code: `CASE WHEN state = 'error' THEN 'Server.InternalError'
    WHEN state IN ('stopping', 'stopped', 'terminating', 'terminated') THEN 'Client.UserInitiatedShutdown'
    WHEN state IN ('provisioning', 'starting') THEN 'pending' END`,
  instance_type: "type",
  image_id: "image",
  architecture: "architecture",
  region: "region",
  availability_zone: "availability_zone",
  subnet_id: subnetIdColumn,
  vpc_id: vpcIdColumn,
  private_ip_address: "host(ip_address)",
  private_dns_name: `CASE WHEN ip_address IS NULL THEN '' ELSE 'ip-' || replace(host(ip_address), '.', '-') ||
    CASE WHEN region = 'us-east-1' THEN '.ec2.internal' ELSE '.' || region || '.compute.internal' END END`,
  key_name: "key_name",
  client_token: "client_token",
  launch_time: isoMs("created_at"),
  running_since: `CASE WHEN state = 'running' THEN ${isoMs("running_since")} END`,
  tags: "tags",
  security_groups: "security_groups",
  disable_api_termination: "disable_api_termination",
  disable_api_stop: "disable_api_stop",
  shutdown_behavior: "shutdown_behavior",
  source_dest_check: "source_dest_check",
  ebs_optimized: "ebs_optimized",
  // The volumes attached to it (lifecycle.volumes), its root device first.
  block_devices: `(SELECT coalesce(jsonb_agg(jsonb_build_object('device', v.device, 'volume_id', v.volume_id,
    'status', v.attachment_state, 'attach_time', ${isoMs("v.attach_time")},
    'delete_on_termination', v.delete_on_termination) ORDER BY v.device <> '${ROOT_DEVICE}', v.device), '[]'::jsonb)
    FROM lifecycle.volumes v WHERE v.server_id = servers.id)`,
};

/** The expression each filter compares with its values (tag filters are built apart). */
const filterFields: Record<string, string> = {
  "instance-id": "instance_id",
  "instance-state-name": "state_name",
  "instance-state-code": "state_code::text",
  "instance-type": "instance_type",
  "availability-zone": "availability_zone",
  "private-ip-address": "private_ip_address",
  // No instance has a public address or name: these match nothing.
  "ip-address": "NULL::text",
  "dns-name": "NULL::text",
  "image-id": "image_id",
  "reservation-id": "reservation_id",
  "launch-time": "launch_time",
  "client-token": "client_token",
  "owner-id": "owner_id",
  "subnet-id": "subnet_id",
  "vpc-id": "vpc_id",
  "key-name": "key_name",
  "private-dns-name": "private_dns_name",
  architecture: "architecture",
  "state-reason-code": "state_reason_code",
  reason: "reason",
};

/** The filters on an instance's security groups: the member of each group they compare. */
const securityGroupFilters: Record<string, "id" | "name"> = {
  "instance.group-id": "id",
  "group-id": "id",
  "instance.group-name": "name",
  "group-name": "name",
};

const selectInstance = sql.raw(
  Object.entries(fields)
    .map(([name, expr]) => `${expr} AS ${name}`)
    .join(", "),
);

const patterns = (values: readonly string[]) => sql`${sql.param(values.map(wildcardRegex))}::text[]`;

/** Any of a filter's values matching (OR), as a condition on the view `v`. */
export function filterCondition({ name, values }: InstanceFilter): SQL {
  if (name.startsWith("tag:")) {
    return sql`(v.tags ->> ${name.slice(4)}) ~ ANY(${patterns(values)})`;
  }
  const groupField = securityGroupFilters[name];
  if (groupField) {
    return sql`EXISTS (SELECT 1 FROM jsonb_array_elements(v.security_groups) AS g
                       WHERE g ->> ${groupField} ~ ANY(${patterns(values)}))`;
  }
  if (name === "tag-key") {
    return sql`EXISTS (SELECT 1 FROM jsonb_object_keys(v.tags) AS k WHERE k ~ ANY(${patterns(values)}))`;
  }
  const field = filterFields[name];
  if (!field) throw new AppError("VALIDATION", `unknown filter ${name}`, { filter: name });
  return sql`(${sql.raw(`v.${field}`)}) ~ ANY(${patterns(values)})`;
}

/** Which rows a request may see: its tenant's (or every tenant's) in its region, and no terminated one past retention. */
export interface Visibility {
  tenantId: string | null;
  region: string;
  visibleAfter: string;
}

const visible = ({ tenantId, region, visibleAfter }: Visibility) =>
  sql`(${tenantId}::text IS NULL OR tenant_id = ${tenantId}) AND region = ${region}
      AND (state NOT IN ('terminated', 'error') OR updated_at > ${visibleAfter}::timestamptz)`;

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Ids as given, instance ids or UUIDs, each compared with its own indexed column. */
function named(ids: readonly string[]) {
  const uuids = ids.filter((id) => uuid.test(id));
  const instanceIds = ids.filter((id) => !uuid.test(id));
  return sql`(instance_id = ANY(${sql.param(instanceIds)}::text[]) OR id = ANY(${sql.param(uuids)}::uuid[]))`;
}

type InstanceRow = Instance & Record<string, unknown>;

/** The servers as instances: lifecycle's servers table read and tagged the way the EC2 API needs. */
export class InstanceRepository {
  /** `clock`: the time of the changes it writes (updated_at, log entries). */
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
  ) {}

  /**
   * Instances newest reservation first, `limit` of them and then the rest of the last one's
   * reservation (a reservation is never split between pages). `after` is the last page's last
   * reservation id.
   */
  async page(
    scope: Visibility,
    where: { ids?: readonly string[] | undefined; filters: readonly InstanceFilter[] },
    after: string | undefined,
    limit: number,
  ): Promise<{ items: Instance[]; last: string | undefined; more: boolean }> {
    const conditions = [sql`true`, ...where.filters.map(filterCondition)];
    if (after !== undefined) conditions.push(sql`v.reservation_id < ${after}`);
    const query = (extra: SQL, n: number) =>
      this.db.execute<InstanceRow>(sql`
        SELECT v.* FROM (SELECT ${selectInstance} FROM lifecycle.servers
          WHERE ${visible(scope)} ${where.ids ? sql`AND ${named(where.ids)}` : sql``}) AS v
        WHERE ${sql.join([...conditions, extra], sql` AND `)}
        ORDER BY v.reservation_id DESC, v.id LIMIT ${n}`);
    const rows = (await query(sql`true`, limit + 1)).rows;
    if (rows.length <= limit) return { items: rows, last: undefined, more: false };
    const extra = rows.pop() as InstanceRow;
    const last = rows[rows.length - 1] as InstanceRow;
    if (extra.reservation_id === last.reservation_id) {
      const rest = await query(sql`v.reservation_id = ${last.reservation_id} AND v.id > ${last.id}`, 1000);
      rows.push(...rest.rows);
    }
    return { items: rows, last: last.reservation_id, more: true };
  }

  /** The instances named, with their state; NOT_FOUND naming every id that is not one of them. */
  async resolve(scope: Visibility, ids: readonly string[]): Promise<Instance[]> {
    const rows = (
      await this.db.execute<InstanceRow>(
        sql`SELECT ${selectInstance} FROM lifecycle.servers WHERE ${visible(scope)} AND ${named(ids)}`,
      )
    ).rows;
    const found = new Set(rows.flatMap((r) => [r.instance_id, r.id]));
    const missing = [...new Set(ids)].filter((id) => !found.has(id.toLowerCase()));
    if (missing.length > 0) throw instancesNotFound(missing);
    return rows;
  }

  /** Every instance of a reservation, terminated or not (a replayed RunInstances). */
  async reservation(tenantId: string, reservationId: string): Promise<Instance[]> {
    return (
      await this.db.execute<InstanceRow>(
        sql`SELECT ${selectInstance} FROM lifecycle.servers
            WHERE tenant_id = ${tenantId} AND reservation_id = ${reservationId} ORDER BY id`,
      )
    ).rows;
  }

  /** The ClientToken's earlier reservation, if the tenant used it in this region. */
  async clientToken(tenantId: string, region: string, token: string) {
    const [row] = (
      await this.db.execute<{ request_hash: string; reservation_id: string }>(
        sql`SELECT request_hash, reservation_id FROM lifecycle.client_tokens
            WHERE tenant_id = ${tenantId} AND region = ${region} AND token = ${token}`,
      )
    ).rows;
    return row;
  }

  /**
   * Sets `set` and removes `remove` (a key, or a key only while it has the value; null: every
   * tag) on the servers, in one statement; VALIDATION (tag_limit) and nothing changed when one
   * would hold more than `maxTags`.
   */
  async retag(
    serverIds: readonly string[],
    set: Record<string, string>,
    remove: readonly { key: string; value?: string | undefined }[] | null,
    maxTags: number,
  ): Promise<number> {
    const removals = (remove ?? []).map((r) => ({
      key: r.key,
      value: r.value ?? null,
      any_value: r.value === undefined,
    }));
    const kept =
      remove === null
        ? sql`'{}'::jsonb`
        : sql`(SELECT coalesce(jsonb_object_agg(t.key, t.value), '{}'::jsonb)
          FROM jsonb_each_text(s.tags) AS t(key, value)
          WHERE NOT EXISTS (SELECT 1 FROM jsonb_to_recordset(${JSON.stringify(removals)}::jsonb)
            AS r(key text, value text, any_value boolean) WHERE r.key = t.key AND (r.any_value OR r.value = t.value)))`;
    const [result] = (
      await this.db.execute<{ over: number; changed: number }>(sql`
        WITH next AS (
          SELECT s.id, ${kept} || ${JSON.stringify(set)}::jsonb AS tags
          FROM lifecycle.servers s WHERE s.id = ANY(${sql.param(serverIds)}::uuid[])
        ), over AS (
          SELECT count(*)::int AS n FROM next WHERE (SELECT count(*) FROM jsonb_object_keys(next.tags)) > ${maxTags}
        ), changed AS (
          -- The clock's time, or the row's last change when later: a row's times never go back.
          UPDATE lifecycle.servers s
          SET tags = next.tags, updated_at = greatest(${clockDate(this.clock)}::timestamptz, s.updated_at), version = s.version + 1
          FROM next, over WHERE s.id = next.id AND over.n = 0 AND s.tags IS DISTINCT FROM next.tags
          RETURNING s.id
        )
        SELECT (SELECT n FROM over) AS over, (SELECT count(*)::int FROM changed) AS changed`)
    ).rows;
    if (result && result.over > 0) {
      throw new AppError("VALIDATION", `an instance may have at most ${maxTags} tags`, {
        reason: "tag_limit",
        limit: maxTags,
      });
    }
    return result?.changed ?? 0;
  }

  /** Tags of the visible instances, by instance id and key, after the `after` pair. */
  async tags(
    scope: Visibility,
    filters: readonly { name: string; values: readonly string[] }[],
    after: [string, string] | undefined,
    limit: number,
  ) {
    const column: Record<string, string> = { key: "t.key", value: "t.value", "resource-id": "s.instance_id" };
    const conditions = filters.map(({ name, values }) => {
      if (name === "resource-type") return sql`'instance' ~ ANY(${patterns(values)})`;
      if (name.startsWith("tag:")) return sql`(s.tags ->> ${name.slice(4)}) ~ ANY(${patterns(values)})`;
      return sql`${sql.raw(column[name] ?? "NULL")} ~ ANY(${patterns(values)})`;
    });
    if (after) conditions.push(sql`(s.instance_id, t.key) > (${after[0]}, ${after[1]})`);
    return (
      await this.db.execute<{ instance_id: string; key: string; value: string }>(sql`
        SELECT s.instance_id, t.key, t.value FROM lifecycle.servers s, jsonb_each_text(s.tags) AS t(key, value)
        WHERE ${visible(scope)} ${conditions.length ? sql`AND ${sql.join(conditions, sql` AND `)}` : sql``}
        ORDER BY s.instance_id, t.key LIMIT ${limit}`)
    ).rows;
  }

  /** A stopped server's new type (and vCPUs), logged; CONFLICT when it is not stopped. */
  async changeType(serverId: string, type: string, vcpus: number, requestId: string): Promise<void> {
    const at = clockDate(this.clock);
    const [row] = (
      await this.db.execute<{ state: ServerState; changed: boolean; instance_id: string }>(sql`
        WITH current AS (SELECT id, state, type AS old_type, instance_id FROM lifecycle.servers WHERE id = ${serverId}),
        changed AS (
          UPDATE lifecycle.servers s
          SET type = ${type}, vcpus = ${vcpus}, updated_at = greatest(${at}::timestamptz, s.updated_at), version = s.version + 1
          FROM current WHERE s.id = current.id AND current.state = 'stopped' RETURNING s.id, s.updated_at
        ), log AS (
          INSERT INTO lifecycle.server_events (server_id, at, type, message, actor, request_id)
          SELECT changed.id, changed.updated_at, 'type.changed', 'instance type changed from ' || old_type || ' to ' || ${type}, 'user', ${requestId}
          FROM current JOIN changed ON changed.id = current.id
        )
        SELECT current.state, EXISTS (SELECT 1 FROM changed) AS changed, current.instance_id FROM current`)
    ).rows;
    if (row && !row.changed) {
      throw new AppError("CONFLICT", `The instance '${row.instance_id}' is not in the 'stopped' state.`, {
        state: row.state,
        instance_id: row.instance_id,
      });
    }
  }
}

/** NOT_FOUND for instance ids, worded as EC2 words it. */
export function instancesNotFound(ids: readonly string[]): AppError {
  const message =
    ids.length === 1
      ? `The instance ID '${ids[0]}' does not exist`
      : `The instance IDs '${ids.join(", ")}' do not exist`;
  return new AppError("NOT_FOUND", message, { instance_id: ids[0], instance_ids: ids });
}
