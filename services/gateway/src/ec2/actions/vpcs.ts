import { vpcFilterNames, vpcs } from "@cloudsim/shared";
import { type Ec2Action, requestContext, unlessDryRun } from "../context.ts";
import { Ec2Error, invalidParameterCombination, missingParameter } from "../errors.ts";
import { vpcXml } from "../network-render.ts";
import { str } from "../query.ts";
import { tagSetXml } from "../render.ts";
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

const createVpc: Ec2Action = async (request) => {
  const { params } = request;
  const cidr = str(params, "CidrBlock", { required: true, max: 64 });
  const tenancy = str(params, "InstanceTenancy", { max: 20 });
  if (tenancy !== undefined && tenancy !== "default")
    throw new Ec2Error(
      "InvalidParameterValue",
      `cloudsim has only default tenancy, not ${tenancy.slice(0, 20)}`,
    );
  if (params.has("AmazonProvidedIpv6CidrBlock") && params.get("AmazonProvidedIpv6CidrBlock") === "true")
    throw new Ec2Error("InvalidParameterValue", "cloudsim's VPCs have no IPv6 blocks");
  const tags = specTags(params, "vpc");
  unlessDryRun(request);
  const vpc = await request.bus.request(
    vpcs.create,
    { ...networkOwner(request), cidr_block: cidr, tags },
    requestContext(request),
  );
  return { vpc: vpcXml(vpc) };
};

const describeVpcs: Ec2Action = async (request) => {
  const ids = idList(request.params, "VpcId", "vpc");
  const page = describeParams(request.params, vpcFilterNames);
  unlessDryRun(request);
  const found = await request.bus.request(
    vpcs.describe,
    { ...networkScope(request), ids: ids.length ? ids : undefined, ...page },
    requestContext(request),
  );
  return { vpcSet: xmlList(found.items.map(vpcXml)), nextToken: found.next_cursor };
};

const deleteVpc: Ec2Action = async (request) => {
  const id = idParam(request.params, "VpcId", "vpc");
  unlessDryRun(request);
  await request.bus.request(vpcs.delete, { ...networkScope(request), vpc_id: id }, requestContext(request));
  return { return: true };
};

const dnsAttributes = ["enableDnsSupport", "enableDnsHostnames"] as const;

const describeVpcAttribute: Ec2Action = async (request) => {
  const id = idParam(request.params, "VpcId", "vpc");
  const attribute = str(request.params, "Attribute", { required: true, max: 64 });
  if (!(dnsAttributes as readonly string[]).includes(attribute))
    throw new Ec2Error(
      "InvalidParameterValue",
      `Value (${attribute.slice(0, 64)}) for parameter attribute is invalid. Unknown attribute.`,
    );
  unlessDryRun(request);
  const { items } = await request.bus.request(
    vpcs.describe,
    { ...networkScope(request), ids: [id], filters: [], limit: 1 },
    requestContext(request),
  );
  const vpc = items[0];
  const value = attribute === "enableDnsSupport" ? vpc?.enable_dns_support : vpc?.enable_dns_hostnames;
  return { vpcId: id, [attribute]: { value: value ?? false } };
};

/** One attribute a call, as EC2 takes them. */
const modifyVpcAttribute: Ec2Action = async (request) => {
  const id = idParam(request.params, "VpcId", "vpc");
  const support = booleanValue(request.params, "EnableDnsSupport");
  const hostnames = booleanValue(request.params, "EnableDnsHostnames");
  if (support === undefined && hostnames === undefined) throw missingParameter("EnableDnsSupport.Value");
  if (support !== undefined && hostnames !== undefined)
    throw invalidParameterCombination(
      "Fields for multiple attribute types specified: enableDnsSupport, enableDnsHostnames",
    );
  unlessDryRun(request);
  await request.bus.request(
    vpcs.modify,
    { ...networkScope(request), vpc_id: id, enable_dns_support: support, enable_dns_hostnames: hostnames },
    requestContext(request),
  );
  return { return: true };
};

/** Classic Link is gone from EC2: every VPC answers false (Ansible's ec2_vpc_net asks for it). */
const classicLink =
  (setName: "vpcSet" | "vpcs", member: "classicLinkEnabled" | "classicLinkDnsSupported"): Ec2Action =>
  async (request) => {
    const ids = idList(request.params, "VpcId", "vpc");
    const page = describeParams(request.params, []);
    unlessDryRun(request);
    const found = await request.bus.request(
      vpcs.describe,
      { ...networkScope(request), ids: ids.length ? ids : undefined, ...page },
      requestContext(request),
    );
    const items = found.items.map((vpc) => ({
      vpcId: vpc.vpc_id,
      [member]: false,
      tagSet: tagSetXml(vpc.tags),
    }));
    return { [setName]: xmlList(items), nextToken: found.next_cursor };
  };

export const vpcActions: Record<string, Ec2Action> = {
  CreateVpc: createVpc,
  DescribeVpcs: describeVpcs,
  DeleteVpc: deleteVpc,
  DescribeVpcAttribute: describeVpcAttribute,
  ModifyVpcAttribute: modifyVpcAttribute,
  DescribeVpcClassicLink: classicLink("vpcSet", "classicLinkEnabled"),
  DescribeVpcClassicLinkDnsSupport: classicLink("vpcs", "classicLinkDnsSupported"),
};
