import { type LaunchNetwork, MAX_INSTANCE_SECURITY_GROUPS, subnets } from "@cloudsim/shared";
import { type Ec2Request, requestContext } from "../context.ts";
import { Ec2Error, invalidParameterCombination } from "../errors.ts";
import { bool, type Ec2Params, int, list, str, structs } from "../query.ts";
import { checkId } from "./network-params.ts";

/** What RunInstances names of the network: a subnet, and groups by id and by name. */
interface NetworkRequest {
  subnetId?: string | undefined;
  groupIds: string[];
  groupNames: string[];
}

const groupIds = (params: Ec2Params, name: string) =>
  list(params, name, { max: MAX_INSTANCE_SECURITY_GROUPS }).map((id) => checkId("group", id));

/**
 * SubnetId, SecurityGroupId.N and SecurityGroup.N, or one NetworkInterface.1 (DeviceIndex 0)
 * with its SubnetId, SecurityGroupId.N and AssociatePublicIpAddress, as Ansible's ec2_instance sends them.
 */
function networkRequest(params: Ec2Params): NetworkRequest | undefined {
  const subnetId = str(params, "SubnetId", { max: 64 });
  const ids = groupIds(params, "SecurityGroupId");
  const names = list(params, "SecurityGroup", { max: MAX_INSTANCE_SECURITY_GROUPS });
  const interfaces = structs(params, "NetworkInterface", { max: 1 });
  const [card] = interfaces;
  if (card) {
    if (subnetId !== undefined || ids.length || names.length)
      throw invalidParameterCombination(
        "Network interfaces and an instance-level subnet ID or security groups may not be specified on the same request",
      );
    const index = int(card, "DeviceIndex", { min: 0, max: 0 });
    if (index === undefined)
      throw new Ec2Error("InvalidParameterValue", "NetworkInterface.1.DeviceIndex must be 0");
    if (card.has("NetworkInterfaceId"))
      throw new Ec2Error(
        "InvalidParameterValue",
        "cloudsim has no network interfaces to attach: give SubnetId instead",
      );
    // Checked, but cloudsim gives instances no ephemeral public address: an Elastic IP is one.
    bool(card, "AssociatePublicIpAddress");
    const cardSubnet = str(card, "SubnetId", { max: 64 });
    return {
      subnetId: cardSubnet === undefined ? undefined : checkId("subnet", cardSubnet),
      groupIds: groupIds(card, "SecurityGroupId"),
      groupNames: [],
    };
  }
  if (subnetId === undefined && ids.length === 0 && names.length === 0) return undefined;
  return {
    subnetId: subnetId === undefined ? undefined : checkId("subnet", subnetId),
    groupIds: ids,
    groupNames: names,
  };
}

/**
 * Where the launch goes on the network, as ipam resolves it before lifecycle launches: the
 * subnet, its VPC and zone, and the groups (none named: the VPC's default). Undefined when the
 * request names nothing of the network (the zone's default subnet, in no group).
 */
export async function launchNetwork(
  request: Ec2Request,
  zone: string | undefined,
): Promise<{ network: LaunchNetwork; availability_zone: string } | undefined> {
  const wanted = networkRequest(request.params);
  if (!wanted) return undefined;
  const placed = await request.bus.request(
    subnets.placement,
    {
      tenant_id: request.owner,
      region: request.region,
      subnet_id: wanted.subnetId,
      availability_zone: zone,
      group_ids: wanted.groupIds,
      group_names: wanted.groupNames,
    },
    requestContext(request),
  );
  return { network: placed.network, availability_zone: placed.availability_zone };
}
