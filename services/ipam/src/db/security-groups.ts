import {
  type Bus,
  type Db,
  type securityGroups as groupCommands,
  isUniqueViolation,
  MAX_RULES_PER_DIRECTION,
  matchesFilters,
  type NetworkFilter,
  type Region,
  type RequestOf,
  type RuleSpec,
  type SecurityGroup,
  type SecurityGroupRule,
  securityGroupUsers,
  withTagFields,
} from "@cloudsim/shared";
import { type SQL, sql } from "drizzle-orm";
import { networkError, OPEN_RANGE, resourceId } from "../domain/network.ts";
import { scanPage } from "../domain/paging.ts";
import { allowAllEgress, normaliseRule, sameRule } from "../domain/rules.ts";
import type { Executor } from "./pools.ts";
import { defaultVpcIdSql, ownedSql, ownerIdSql, type Scope, visibleSql } from "./scope.ts";

export const groupNotFound = (what: string) =>
  networkError("NOT_FOUND", "group_not_found", `The security group '${what}' does not exist`, {
    group: what,
  });

const DEFAULT_GROUP = "default";

function ruleFields(group: SecurityGroup, egress: boolean) {
  const rules = group.rules.filter((r) => r.is_egress === egress);
  const prefix = egress ? "egress.ip-permission" : "ip-permission";
  const values = (pick: (r: SecurityGroupRule) => string | number | null) =>
    rules.flatMap((r) => {
      const value = pick(r);
      return value === null ? [] : [String(value)];
    });
  return {
    [`${prefix}.protocol`]: values((r) => r.protocol),
    [`${prefix}.from-port`]: values((r) => r.from_port),
    [`${prefix}.to-port`]: values((r) => r.to_port),
    [`${prefix}.cidr`]: values((r) => r.cidr_ipv4),
    [`${prefix}.ipv6-cidr`]: values((r) => r.cidr_ipv6),
    [`${prefix}.group-id`]: values((r) => r.referenced_group_id),
  };
}

const groupFields = (group: SecurityGroup) =>
  withTagFields(
    {
      "group-id": group.group_id,
      "group-name": group.group_name,
      "vpc-id": group.vpc_id,
      description: group.description,
      "owner-id": group.owner_id,
      ...ruleFields(group, false),
      ...ruleFields(group, true),
    },
    group.tags,
  );

/** EC2's words for a rule in its errors: `peer: 0.0.0.0/0, TCP, from port: 22, to port: 22, ALLOW`. */
function ruleText(rule: RuleSpec): string {
  const peer = rule.cidr_ipv4 ?? rule.cidr_ipv6 ?? rule.referenced_group_id;
  const protocol = rule.protocol === "-1" ? "ALL" : rule.protocol.toUpperCase();
  const ports = rule.from_port === null ? "" : `, from port: ${rule.from_port}, to port: ${rule.to_port}`;
  return `peer: ${peer}, ${protocol}${ports}, ALLOW`;
}

const ruleColumns = sql`r.id AS rule_id, r.group_id, r.is_egress, r.protocol, r.from_port, r.to_port,
  r.cidr_ipv4, r.cidr_ipv6, r.referenced_group_id, r.description`;

/** Security groups and their rules, each a tenant's; a VPC's default group is made when first needed. */
export class SecurityGroupRepository {
  constructor(
    private readonly db: Db,
    private readonly bus: Bus,
  ) {}

  /**
   * The tenant's default group of the VPC, with EC2's rules (everything in from its members,
   * everything out), unless it has one: the unique name makes two concurrent calls make one.
   */
  async ensureDefault(tx: Executor, tenantId: string, vpcId: string, region: Region): Promise<void> {
    const id = resourceId("sg");
    await tx.execute(sql`
      WITH g AS (
        INSERT INTO ipam.security_groups (id, tenant_id, vpc_id, region, name, description, is_default)
        VALUES (${id}, ${tenantId}, ${vpcId}, ${region}, ${DEFAULT_GROUP}, 'default VPC security group', true)
        ON CONFLICT (tenant_id, vpc_id, name) DO NOTHING RETURNING id)
      INSERT INTO ipam.security_group_rules (id, group_id, is_egress, protocol, cidr_ipv4, referenced_group_id)
      SELECT ${resourceId("sgr")}, g.id, false, '-1', NULL, g.id FROM g
      UNION ALL SELECT ${resourceId("sgr")}, g.id, true, '-1', ${allowAllEgress.cidr_ipv4}, NULL FROM g`);
  }

  /**
   * A default group for the tenant in every VPC of the region it sees that has none of its yet; a
   * Neutron network (a VPC of the open range) has none: its groups are the default VPC's.
   */
  async ensureDefaults(scope: Scope): Promise<void> {
    const tenantId = scope.tenantId;
    if (tenantId === null) return;
    const missing = await this.db.execute<{ id: string }>(sql`
      SELECT v.id FROM ipam.vpcs v
      WHERE v.region = ${scope.region} AND (v.tenant_id = ${tenantId} OR v.tenant_id IS NULL)
        AND v.cidr <> ${OPEN_RANGE}
        AND NOT EXISTS (SELECT 1 FROM ipam.security_groups g
                        WHERE g.tenant_id = ${tenantId} AND g.vpc_id = v.id AND g.name = ${DEFAULT_GROUP})`);
    for (const { id } of missing.rows) await this.ensureDefault(this.db, tenantId, id, scope.region);
  }

  private select(scope: Scope, where: SQL) {
    return sql`SELECT g.id AS group_id, g.name AS group_name, g.description, g.vpc_id,
        ${ownerIdSql(sql`g.tenant_id`, scope)} AS owner_id, g.is_default, g.tags,
        coalesce((SELECT json_agg(json_build_object(
            'rule_id', r.id, 'group_id', r.group_id, 'is_egress', r.is_egress, 'protocol', r.protocol,
            'from_port', r.from_port, 'to_port', r.to_port, 'cidr_ipv4', r.cidr_ipv4, 'cidr_ipv6', r.cidr_ipv6,
            'referenced_group_id', r.referenced_group_id, 'description', r.description) ORDER BY r.created_at, r.id)
          FROM ipam.security_group_rules r WHERE r.group_id = g.id), '[]') AS rules
      FROM ipam.security_groups g
      WHERE g.region = ${scope.region} AND ${visibleSql(sql`g.tenant_id`, scope)} AND ${where}`;
  }

  /** The scope's groups of these ids, NOT_FOUND naming the first it does not see. */
  async resolve(scope: Scope, ids: readonly string[]): Promise<SecurityGroup[]> {
    const rows = await this.db.execute<SecurityGroup>(
      this.select(scope, sql`g.id = ANY(${sql.param(ids)}::text[])`),
    );
    const missing = ids.find((id) => !rows.rows.some((g) => g.group_id === id));
    if (missing !== undefined) throw groupNotFound(missing);
    return ids.map((id) => rows.rows.find((g) => g.group_id === id) as SecurityGroup);
  }

  /** The scope's groups of these names in one VPC (the region's default VPC when none is given). */
  async byNames(scope: Scope, names: readonly string[], vpcId?: string): Promise<SecurityGroup[]> {
    const vpc = vpcId === undefined ? defaultVpcIdSql(sql`${scope.region}::text`) : sql`${vpcId}`;
    const rows = await this.db.execute<SecurityGroup>(
      this.select(scope, sql`g.vpc_id = ${vpc} AND g.name = ANY(${sql.param(names)}::text[])`),
    );
    const missing = names.find((name) => !rows.rows.some((g) => g.group_name === name));
    if (missing !== undefined)
      throw networkError(
        "NOT_FOUND",
        "group_not_found",
        vpcId === undefined
          ? `The security group '${missing}' does not exist in default VPC of ${scope.region}`
          : `The security group '${missing}' does not exist in VPC '${vpcId}'`,
        { group: missing },
      );
    return names.map((name) => rows.rows.find((g) => g.group_name === name) as SecurityGroup);
  }

  async create(
    { tenant_id, region, group_name, description, tags }: RequestOf<typeof groupCommands.create>,
    vpcId: string,
  ): Promise<string> {
    if (group_name === DEFAULT_GROUP)
      throw networkError("VALIDATION", "group_reserved", "The security group name 'default' is reserved");
    if (group_name.startsWith("sg-"))
      throw networkError("VALIDATION", "group_malformed", "Group names may not be in the format sg-*");
    const id = resourceId("sg");
    try {
      await this.db.transaction(async (tx) => {
        await this.ensureDefault(tx, tenant_id, vpcId, region);
        await tx.execute(sql`
          WITH g AS (
            INSERT INTO ipam.security_groups (id, tenant_id, vpc_id, region, name, description, tags)
            VALUES (${id}, ${tenant_id}, ${vpcId}, ${region}, ${group_name}, ${description}, ${JSON.stringify(tags)}::jsonb)
            RETURNING id)
          INSERT INTO ipam.security_group_rules (id, group_id, is_egress, protocol, cidr_ipv4)
          SELECT ${resourceId("sgr")}, g.id, true, '-1', ${allowAllEgress.cidr_ipv4} FROM g`);
      });
    } catch (err) {
      if (isUniqueViolation(err, "security_groups_name_key"))
        throw networkError(
          "CONFLICT",
          "group_duplicate",
          `The security group '${group_name}' already exists for VPC '${vpcId}'`,
          { group_name, vpc_id: vpcId },
        );
      throw err;
    }
    return id;
  }

  async describe(
    scope: Scope,
    request: {
      ids?: string[] | undefined;
      names?: string[] | undefined;
      filters: NetworkFilter[];
      limit: number;
      cursor?: string | undefined;
    },
  ) {
    await this.ensureDefaults(scope);
    const named = request.names ? await this.byNames(scope, request.names) : undefined;
    const ids = named ? named.map((g) => g.group_id) : request.ids;
    if (request.ids) await this.resolve(scope, request.ids);
    return scanPage(
      async (after, count) =>
        (
          await this.db.execute<SecurityGroup>(
            sql`${this.select(
              scope,
              sql`${ids ? sql`g.id = ANY(${sql.param(ids)}::text[])` : sql`true`} AND ${after ? sql`g.id > ${after}` : sql`true`}`,
            )} ORDER BY g.id LIMIT ${count}`,
          )
        ).rows,
      (group) => group.group_id,
      (group) =>
        (!request.ids || request.ids.includes(group.group_id)) &&
        matchesFilters(request.filters, groupFields(group)),
      request.limit,
      request.cursor,
    );
  }

  /** The group a delete names: by id, or by name in the region's default VPC. */
  private async target(
    scope: Scope,
    ref: { group_id?: string | undefined; group_name?: string | undefined },
  ) {
    if (ref.group_id !== undefined) return (await this.resolve(scope, [ref.group_id]))[0] as SecurityGroup;
    if (ref.group_name !== undefined)
      return (await this.byNames(scope, [ref.group_name]))[0] as SecurityGroup;
    throw networkError(
      "VALIDATION",
      "group_not_found",
      "The request must contain the parameter GroupId or GroupName",
    );
  }

  /** Refused for a default group, one another group's rule names, and one a live instance is in. */
  async delete(scope: Scope, ref: { group_id?: string | undefined; group_name?: string | undefined }) {
    const group = await this.target(scope, ref);
    if (group.is_default)
      throw networkError(
        "CONFLICT",
        "cannot_delete",
        `the specified group: "${group.group_id}" name: "default" cannot be deleted by a user`,
        { group_id: group.group_id },
      );
    const dependent = await this.db.execute<{ group_id: string }>(sql`
      SELECT group_id FROM ipam.security_group_rules
      WHERE referenced_group_id = ${group.group_id} AND group_id <> ${group.group_id} LIMIT 1`);
    const { instance_id } = await this.bus.request(securityGroupUsers.inUse, { group_id: group.group_id });
    if (dependent.rows[0] || instance_id)
      throw networkError(
        "CONFLICT",
        "dependency_violation",
        `resource ${group.group_id} has a dependent object${instance_id ? ` (instance ${instance_id})` : ` (a rule of ${dependent.rows[0]?.group_id})`}`,
        { group_id: group.group_id },
      );
    await this.db.execute(sql`DELETE FROM ipam.security_groups WHERE id = ${group.group_id}`);
    return group.group_id;
  }

  /** Adds rules, all or none; each must be new, and every group a rule names the scope's. */
  async authorize(scope: Scope, groupId: string, isEgress: boolean, given: readonly RuleSpec[]) {
    const [group] = await this.resolve(scope, [groupId]);
    const rules = given.map(normaliseRule);
    const referenced = [
      ...new Set(rules.flatMap((r) => (r.referenced_group_id ? [r.referenced_group_id] : []))),
    ];
    if (referenced.length > 0) await this.resolve(scope, referenced);
    const existing = (group as SecurityGroup).rules.filter((r) => r.is_egress === isEgress);
    for (const [i, rule] of rules.entries()) {
      if (existing.some((r) => sameRule(r, rule)) || rules.slice(0, i).some((r) => sameRule(r, rule)))
        throw duplicate(rule);
    }
    if (existing.length + rules.length > MAX_RULES_PER_DIRECTION)
      throw networkError(
        "EXHAUSTED",
        "rules_per_group",
        `The maximum number of rules per security group has been reached (${MAX_RULES_PER_DIRECTION} each way).`,
      );
    const rows = rules.map((rule) => ({
      ...rule,
      rule_id: resourceId("sgr"),
      group_id: groupId,
      is_egress: isEgress,
    }));
    try {
      const inserted = await this.db.execute<SecurityGroupRule>(sql`
        INSERT INTO ipam.security_group_rules AS r (id, group_id, is_egress, protocol, from_port, to_port,
          cidr_ipv4, cidr_ipv6, referenced_group_id, description)
        SELECT x.rule_id, x.group_id, x.is_egress, x.protocol, x.from_port, x.to_port,
               x.cidr_ipv4, x.cidr_ipv6, x.referenced_group_id, x.description
        FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) AS x(rule_id text, group_id text, is_egress boolean,
          protocol text, from_port int, to_port int, cidr_ipv4 text, cidr_ipv6 text, referenced_group_id text,
          description text)
        RETURNING ${ruleColumns}`);
      return { owner_id: (group as SecurityGroup).owner_id, rules: inserted.rows };
    } catch (err) {
      // The same rule added by a concurrent request since this one read the group's.
      if (isUniqueViolation(err, "security_group_rules_key")) throw duplicate(rules[0] as RuleSpec);
      throw err;
    }
  }

  /** Removes rules, all or none; each must exist (its description does not matter). */
  async revoke(scope: Scope, groupId: string, isEgress: boolean, given: readonly RuleSpec[]) {
    const [group] = await this.resolve(scope, [groupId]);
    const existing = (group as SecurityGroup).rules.filter((r) => r.is_egress === isEgress);
    const ids = given.map(normaliseRule).map((rule) => {
      const found = existing.find((r) => sameRule(r, rule));
      if (!found)
        throw networkError(
          "NOT_FOUND",
          "permission_not_found",
          `The specified rule "${ruleText(rule)}" does not exist in this security group.`,
        );
      return found.rule_id;
    });
    const deleted = await this.db.execute(
      sql`DELETE FROM ipam.security_group_rules WHERE id = ANY(${sql.param(ids)}::text[]) AND ${ownedGroup(scope)}`,
    );
    return deleted.rowCount ?? 0;
  }
}

const ownedGroup = (scope: Scope) =>
  sql`group_id IN (SELECT id FROM ipam.security_groups WHERE ${ownedSql(sql`tenant_id`, scope)})`;

const duplicate = (rule: RuleSpec) =>
  networkError("CONFLICT", "permission_duplicate", `the specified rule "${ruleText(rule)}" already exists`);
