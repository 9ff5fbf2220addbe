import { MAX_RULES_PER_DIRECTION, type RuleSpec } from "@cloudsim/shared";
import { Ec2Error, missingParameter } from "../errors.ts";
import { type Ec2Params, int, str, structs } from "../query.ts";
import { checkId } from "./network-params.ts";

const MAX_TARGETS = 100;

const ports = (params: Ec2Params) => ({
  from_port: int(params, "FromPort", { min: -1, max: 65535 }) ?? null,
  to_port: int(params, "ToPort", { min: -1, max: 65535 }) ?? null,
});

const rule = (
  protocol: string,
  portRange: Pick<RuleSpec, "from_port" | "to_port">,
  target: Partial<RuleSpec>,
): RuleSpec => ({
  protocol,
  ...portRange,
  cidr_ipv4: null,
  cidr_ipv6: null,
  referenced_group_id: null,
  description: null,
  ...target,
});

/** The group pairs of a permission: UserIdGroupPairs as botocore sends them (`Groups.N`), or by that name. */
function groupPairs(permission: Ec2Params) {
  const pairs = [
    ...structs(permission, "Groups", { max: MAX_TARGETS }),
    ...structs(permission, "UserIdGroupPairs", { max: MAX_TARGETS }),
  ];
  return pairs.map((pair) => {
    const groupId = str(pair, "GroupId", { max: 64 });
    if (groupId === undefined)
      throw new Ec2Error(
        "InvalidParameterValue",
        `${pair.scope}: cloudsim names groups in rules by GroupId only`,
      );
    return {
      referenced_group_id: checkId("group", groupId),
      description: str(pair, "Description", { max: 255 }) ?? null,
    };
  });
}

/**
 * The rules of a permission change, one per target: IpPermissions.N (IpProtocol, FromPort,
 * ToPort, IpRanges.M, Ipv6Ranges.M, Groups.M), or the old top-level IpProtocol/FromPort/ToPort/CidrIp.
 */
export function permissionRules(params: Ec2Params): RuleSpec[] {
  const permissions = structs(params, "IpPermissions", { max: MAX_RULES_PER_DIRECTION });
  const rules: RuleSpec[] = [];
  for (const permission of permissions) {
    const protocol = str(permission, "IpProtocol", { required: true, max: 16 });
    const range = ports(permission);
    const targets = [
      ...structs(permission, "IpRanges", { max: MAX_TARGETS }).map((r) => ({
        cidr_ipv4: str(r, "CidrIp", { required: true, max: 64 }),
        description: str(r, "Description", { max: 255 }) ?? null,
      })),
      ...structs(permission, "Ipv6Ranges", { max: MAX_TARGETS }).map((r) => ({
        cidr_ipv6: str(r, "CidrIpv6", { required: true, max: 64 }),
        description: str(r, "Description", { max: 255 }) ?? null,
      })),
      ...groupPairs(permission),
    ];
    if (structs(permission, "PrefixListIds", { max: MAX_TARGETS }).length > 0)
      throw new Ec2Error("InvalidParameterValue", "cloudsim has no prefix lists");
    if (targets.length === 0) throw missingParameter(`${permission.scope}.IpRanges.1.CidrIp`);
    for (const target of targets) rules.push(rule(protocol, range, target));
  }
  const cidr = str(params, "CidrIp", { max: 64 });
  const protocol = str(params, "IpProtocol", { max: 16 });
  if (cidr !== undefined || protocol !== undefined) {
    if (params.has("SourceSecurityGroupName"))
      throw new Ec2Error(
        "InvalidParameterValue",
        "cloudsim names groups in rules by GroupId only (IpPermissions)",
      );
    rules.push(rule(protocol ?? "-1", ports(params), { cidr_ipv4: cidr ?? "0.0.0.0/0" }));
  }
  if (rules.length === 0) throw missingParameter("IpPermissions");
  if (rules.length > 2 * MAX_RULES_PER_DIRECTION)
    throw new Ec2Error(
      "RulesPerSecurityGroupLimitExceeded",
      "The maximum number of rules per security group has been reached.",
    );
  return rules;
}
