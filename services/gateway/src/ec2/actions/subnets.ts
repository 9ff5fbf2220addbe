import { subnetFilterNames, subnets } from "@cloudsim/shared";
import { type Ec2Action, requestContext, unlessDryRun } from "../context.ts";
import { Ec2Error, missingParameter } from "../errors.ts";
import { subnetXml } from "../network-render.ts";
import { str } from "../query.ts";
import { xmlList } from "../xml.ts";
import {
  booleanValue,
  describeParams,
  idList,
  idParam,
  networkOwner,
  networkScope,
  specTags,
} from "./network-params.ts";

const createSubnet: Ec2Action = async (request) => {
  const { params } = request;
  const vpcId = idParam(params, "VpcId", "vpc");
  const cidr = str(params, "CidrBlock", { required: true, max: 64 });
  const zone = str(params, "AvailabilityZone", { max: 64 });
  if (params.has("AvailabilityZoneId"))
    throw new Ec2Error(
      "InvalidParameterValue",
      "cloudsim takes AvailabilityZone (a name), not AvailabilityZoneId",
    );
  const tags = specTags(params, "subnet");
  unlessDryRun(request);
  const subnet = await request.bus.request(
    subnets.create,
    { ...networkOwner(request), vpc_id: vpcId, cidr_block: cidr, availability_zone: zone, tags },
    requestContext(request),
  );
  return { subnet: subnetXml(subnet, request.region) };
};

const describeSubnets: Ec2Action = async (request) => {
  const ids = idList(request.params, "SubnetId", "subnet");
  const page = describeParams(request.params, subnetFilterNames);
  unlessDryRun(request);
  const found = await request.bus.request(
    subnets.describe,
    { ...networkScope(request), ids: ids.length ? ids : undefined, ...page },
    requestContext(request),
  );
  return {
    subnetSet: xmlList(found.items.map((subnet) => subnetXml(subnet, request.region))),
    nextToken: found.next_cursor,
  };
};

const deleteSubnet: Ec2Action = async (request) => {
  const id = idParam(request.params, "SubnetId", "subnet");
  unlessDryRun(request);
  await request.bus.request(
    subnets.delete,
    { ...networkScope(request), subnet_id: id },
    requestContext(request),
  );
  return { return: true };
};

/** MapPublicIpOnLaunch, the attribute cloudsim models. */
const modifySubnetAttribute: Ec2Action = async (request) => {
  const id = idParam(request.params, "SubnetId", "subnet");
  const mapPublic = booleanValue(request.params, "MapPublicIpOnLaunch");
  const other = [...request.params.keys()].find(
    (key) => key.endsWith(".Value") && key !== "MapPublicIpOnLaunch.Value",
  );
  if (other)
    throw new Ec2Error(
      "InvalidParameterValue",
      `cloudsim can modify only MapPublicIpOnLaunch, not ${other.split(".")[0]}`,
    );
  if (mapPublic === undefined) throw missingParameter("MapPublicIpOnLaunch.Value");
  unlessDryRun(request);
  await request.bus.request(
    subnets.modify,
    { ...networkScope(request), subnet_id: id, map_public_ip_on_launch: mapPublic },
    requestContext(request),
  );
  return { return: true };
};

export const subnetActions: Record<string, Ec2Action> = {
  CreateSubnet: createSubnet,
  DescribeSubnets: describeSubnets,
  DeleteSubnet: deleteSubnet,
  ModifySubnetAttribute: modifySubnetAttribute,
};
