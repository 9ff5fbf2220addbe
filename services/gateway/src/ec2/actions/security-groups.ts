import { securityGroupFilterNames, securityGroups } from "@cloudsim/shared";
import { type Ec2Action, type Ec2Request, requestContext, unlessDryRun } from "../context.ts";
import { Ec2Error, missingParameter } from "../errors.ts";
import { securityGroupRuleXml, securityGroupXml } from "../network-render.ts";
import { list, str } from "../query.ts";
import { xmlList } from "../xml.ts";
import { permissionRules } from "./ip-permissions.ts";
import { checkId, describeParams, idList, networkOwner, networkScope, specTags } from "./network-params.ts";

const createSecurityGroup: Ec2Action = async (request) => {
  const { params } = request;
  const name = str(params, "GroupName", { required: true, max: 255 });
  const description = str(params, "GroupDescription", { required: true, max: 255 });
  const vpcId = str(params, "VpcId", { max: 64 });
  const tags = specTags(params, "security-group");
  unlessDryRun(request);
  const { group_id } = await request.bus.request(
    securityGroups.create,
    {
      ...networkOwner(request),
      group_name: name,
      description,
      vpc_id: vpcId === undefined ? undefined : checkId("vpc", vpcId),
      tags,
    },
    requestContext(request),
  );
  return {
    return: true,
    groupId: group_id,
    tagSet: xmlList(Object.entries(tags).map(([key, value]) => ({ key, value }))),
  };
};

const describeSecurityGroups: Ec2Action = async (request) => {
  const ids = idList(request.params, "GroupId", "group");
  const names = list(request.params, "GroupName", { max: 100 });
  const page = describeParams(request.params, securityGroupFilterNames);
  unlessDryRun(request);
  const found = await request.bus.request(
    securityGroups.describe,
    {
      ...networkScope(request),
      ids: ids.length ? ids : undefined,
      names: names.length ? names : undefined,
      ...page,
    },
    requestContext(request),
  );
  return { securityGroupInfo: xmlList(found.items.map(securityGroupXml)), nextToken: found.next_cursor };
};

/** The group an action names: GroupId, or GroupName (in the region's default VPC, as EC2 reads it). */
async function namedGroup(request: Ec2Request): Promise<string> {
  const id = str(request.params, "GroupId", { max: 64 });
  if (id !== undefined) return checkId("group", id);
  const name = str(request.params, "GroupName", { max: 255 });
  if (name === undefined) throw missingParameter("GroupId");
  const { items } = await request.bus.request(
    securityGroups.describe,
    { ...networkScope(request), names: [name], filters: [], limit: 1 },
    requestContext(request),
  );
  const group = items[0];
  if (!group)
    throw new Ec2Error("InvalidGroup.NotFound", `The security group '${name.slice(0, 255)}' does not exist`);
  return group.group_id;
}

const deleteSecurityGroup: Ec2Action = async (request) => {
  const id = str(request.params, "GroupId", { max: 64 });
  const name = str(request.params, "GroupName", { max: 255 });
  if (id === undefined && name === undefined) throw missingParameter("GroupId");
  unlessDryRun(request);
  await request.bus.request(
    securityGroups.delete,
    {
      ...networkScope(request),
      group_id: id === undefined ? undefined : checkId("group", id),
      group_name: name,
    },
    requestContext(request),
  );
  return { return: true, groupId: id };
};

const authorize =
  (isEgress: boolean): Ec2Action =>
  async (request) => {
    const rules = permissionRules(request.params);
    const groupId = isEgress
      ? checkId("group", str(request.params, "GroupId", { required: true, max: 64 }))
      : await namedGroup(request);
    unlessDryRun(request);
    const added = await request.bus.request(
      securityGroups.authorize,
      { ...networkScope(request), group_id: groupId, is_egress: isEgress, rules },
      requestContext(request),
    );
    return {
      return: true,
      securityGroupRuleSet: xmlList(added.rules.map((rule) => securityGroupRuleXml(rule, added.owner_id))),
    };
  };

const revoke =
  (isEgress: boolean): Ec2Action =>
  async (request) => {
    const rules = permissionRules(request.params);
    const groupId = isEgress
      ? checkId("group", str(request.params, "GroupId", { required: true, max: 64 }))
      : await namedGroup(request);
    unlessDryRun(request);
    await request.bus.request(
      securityGroups.revoke,
      { ...networkScope(request), group_id: groupId, is_egress: isEgress, rules },
      requestContext(request),
    );
    return { return: true };
  };

export const securityGroupActions: Record<string, Ec2Action> = {
  CreateSecurityGroup: createSecurityGroup,
  DescribeSecurityGroups: describeSecurityGroups,
  DeleteSecurityGroup: deleteSecurityGroup,
  AuthorizeSecurityGroupIngress: authorize(false),
  AuthorizeSecurityGroupEgress: authorize(true),
  RevokeSecurityGroupIngress: revoke(false),
  RevokeSecurityGroupEgress: revoke(true),
};
