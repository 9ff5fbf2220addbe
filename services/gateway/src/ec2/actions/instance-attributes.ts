import {
  type Instance,
  type InstanceAttributeChange,
  InstanceType,
  instanceAttributes,
  instances,
  MAX_DESCRIBE_PAGE,
  ROOT_DEVICE,
  ShutdownBehavior,
  volumes,
} from "@cloudsim/shared";
import { type Ec2Action, type Ec2Request, requestContext, unlessDryRun, visibility } from "../context.ts";
import { Ec2Error, invalidParameterValue, missingParameter } from "../errors.ts";
import { checkFilterNames } from "../filters.ts";
import { bool, type Ec2Params, filters, str, structs } from "../query.ts";
import { blockDeviceMappingXml } from "../render.ts";
import { type XmlObject, xmlList } from "../xml.ts";
import { instanceIdParam, instanceIds, maxResults } from "./instance-params.ts";
import { deviceParam } from "./volumes.ts";

/** What RunInstances launches an instance with of its attributes (UserData is base64, as EC2 takes it). */
export function launchAttributes(params: Ec2Params) {
  const behavior = str(params, "InstanceInitiatedShutdownBehavior");
  const shutdown = behavior === undefined ? undefined : ShutdownBehavior.safeParse(behavior);
  if (shutdown && !shutdown.success)
    throw invalidParameterValue(
      "InstanceInitiatedShutdownBehavior",
      behavior ?? "",
      "Expecting stop or terminate.",
    );
  return {
    user_data: str(params, "UserData", { max: 21_848 }),
    disable_api_termination: bool(params, "DisableApiTermination"),
    disable_api_stop: bool(params, "DisableApiStop"),
    shutdown_behavior: shutdown?.data,
  };
}

const booleanOf = (name: string, value: string) => {
  if (value !== "true" && value !== "false")
    throw invalidParameterValue(name, value, "Expecting true or false.");
  return value === "true";
};

/** Each attribute ModifyInstanceAttribute changes, from its value (the `Value` of either form). */
const changeOf: Record<string, (value: string, name: string) => InstanceAttributeChange> = {
  instanceType: (value) => {
    const type = InstanceType.safeParse(value);
    if (!type.success)
      throw new Ec2Error("InvalidParameterValue", `Invalid value '${value.slice(0, 100)}' for InstanceType.`);
    return { name: "instanceType", value: type.data };
  },
  userData: (value, name) => {
    if (value.length > 21_848) throw invalidParameterValue(name, value, "User data is at most 16 KB.");
    return { name: "userData", value: value === "" ? null : value };
  },
  disableApiTermination: (value, name) => ({ name: "disableApiTermination", value: booleanOf(name, value) }),
  disableApiStop: (value, name) => ({ name: "disableApiStop", value: booleanOf(name, value) }),
  instanceInitiatedShutdownBehavior: (value, name) => {
    const behavior = ShutdownBehavior.safeParse(value);
    if (!behavior.success) throw invalidParameterValue(name, value, "Expecting stop or terminate.");
    return { name: "instanceInitiatedShutdownBehavior", value: behavior.data };
  },
  sourceDestCheck: (value, name) => ({ name: "sourceDestCheck", value: booleanOf(name, value) }),
  ebsOptimized: (value, name) => ({ name: "ebsOptimized", value: booleanOf(name, value) }),
};

/** The `<Name>.Value` parameter of each attribute (botocore's and the SDKs' form of ModifyInstanceAttribute). */
const valueParameters = Object.fromEntries(
  Object.keys(changeOf).map((attribute) => [
    `${attribute[0]?.toUpperCase()}${attribute.slice(1)}.Value`,
    attribute,
  ]),
);

/** Attributes EC2 has that cloudsim does not model: refused by name rather than ignored. */
const unmodelled = [
  "Kernel.Value",
  "Ramdisk.Value",
  "SriovNetSupport.Value",
  "EnaSupport.Value",
  "GroupId.1",
];

/**
 * ModifyInstanceAttribute: one attribute a call, as EC2 takes it (Attribute and Value, or
 * `<Attribute>.Value`), or BlockDeviceMapping.N.Ebs.DeleteOnTermination of attached volumes.
 */
const modifyInstanceAttribute: Ec2Action = async (request) => {
  const { params } = request;
  const id = instanceIdParam(params);
  const mappings = structs(params, "BlockDeviceMapping", { max: 32 });
  const given: [string, string][] = [...params.keys()].flatMap((key) => {
    const attribute = valueParameters[key];
    return attribute ? [[attribute, key]] : [];
  });
  const named = str(params, "Attribute");
  if (named !== undefined) given.push([named, "Value"]);
  const refused = unmodelled.find((key) => params.has(key));
  if (refused)
    throw invalidParameterValue(
      refused,
      params.get(refused) ?? "",
      "cloudsim does not model this attribute.",
    );
  if (given.length + (mappings.length ? 1 : 0) !== 1)
    throw new Ec2Error("InvalidParameterCombination", "Exactly one attribute can be modified at a time.");
  if (mappings.length) {
    const devices = mappings.map((m) => ({
      device: deviceParam(m, "DeviceName", true) as string,
      delete_on_termination: bool(m, "Ebs.DeleteOnTermination") ?? missingDeleteOnTermination(m.scope),
    }));
    unlessDryRun(request);
    await request.bus.request(
      volumes.deleteOnTermination,
      { tenant_id: request.scope, region: request.region, instance_id: id, devices },
      requestContext(request),
    );
    return { return: true };
  }
  const [[attribute, parameter] = ["", ""]] = given;
  const toChange = changeOf[attribute];
  if (!toChange) throw invalidParameterValue("Attribute", attribute, "This attribute cannot be modified.");
  const value = str(params, parameter, { required: attribute !== "userData" }) ?? "";
  const change = toChange(value, parameter);
  unlessDryRun(request);
  await request.bus.request(
    instanceAttributes.modify,
    { ...visibility(request), id, change },
    requestContext(request),
  );
  return { return: true };
};

function missingDeleteOnTermination(scope: string): never {
  throw missingParameter(`${scope}.Ebs.DeleteOnTermination`);
}

/** One instance by id, or InvalidInstanceID.NotFound. */
async function instanceOf(request: Ec2Request, id: string): Promise<Instance> {
  const { items } = await request.bus.request(
    instances.describe,
    { ...visibility(request), ids: [id], filters: [], limit: 1 },
    requestContext(request),
  );
  const [instance] = items;
  if (!instance) throw new Error("describe returned no instance");
  return instance;
}

const valueXml = (value: string | boolean | undefined): XmlObject => (value === undefined ? {} : { value });

/** Each attribute DescribeInstanceAttribute answers: its element and value. */
const attributeXml: Record<
  string,
  (instance: Instance, request: Ec2Request) => Promise<XmlObject> | XmlObject
> = {
  instanceType: (i) => ({ instanceType: valueXml(i.instance_type) }),
  kernel: () => ({ kernel: {} }),
  ramdisk: () => ({ ramdisk: {} }),
  userData: async (i, request) => {
    const { user_data } = await request.bus.request(
      instanceAttributes.userData,
      { ...visibility(request), id: i.instance_id },
      requestContext(request),
    );
    return { userData: valueXml(user_data ?? undefined) };
  },
  disableApiTermination: (i) => ({ disableApiTermination: valueXml(i.disable_api_termination) }),
  disableApiStop: (i) => ({ disableApiStop: valueXml(i.disable_api_stop) }),
  instanceInitiatedShutdownBehavior: (i) => ({
    instanceInitiatedShutdownBehavior: valueXml(i.shutdown_behavior),
  }),
  rootDeviceName: () => ({ rootDeviceName: valueXml(ROOT_DEVICE) }),
  blockDeviceMapping: (i) => ({ blockDeviceMapping: blockDeviceMappingXml(i) }),
  productCodes: () => ({ productCodes: xmlList([]) }),
  sourceDestCheck: (i) => ({ sourceDestCheck: valueXml(i.source_dest_check) }),
  groupSet: (i) => ({
    groupSet: xmlList(i.security_groups.map((g) => ({ groupId: g.id, groupName: g.name }))),
  }),
  ebsOptimized: (i) => ({ ebsOptimized: valueXml(i.ebs_optimized) }),
  enaSupport: () => ({ enaSupport: valueXml(true) }),
  sriovNetSupport: () => ({ sriovNetSupport: {} }),
  enclaveOptions: () => ({ enclaveOptions: { enabled: false } }),
};

const describeInstanceAttribute: Ec2Action = async (request) => {
  const { params } = request;
  const id = instanceIdParam(params);
  const attribute = str(params, "Attribute", { required: true, max: 64 });
  const show = Object.hasOwn(attributeXml, attribute) ? attributeXml[attribute] : undefined;
  if (!show) throw invalidParameterValue("Attribute", attribute, "Unknown attribute.");
  unlessDryRun(request);
  const instance = await instanceOf(request, id);
  return { instanceId: instance.instance_id, ...(await show(instance, request)) };
};

/** The CPU credits of a burstable family: t2 launches standard, t3, t3a and t4g unlimited; others have none to change. */
export function cpuCreditsOf(type: string): "standard" | "unlimited" {
  return /^(t3|t3a|t4g)\./.test(type) ? "unlimited" : "standard";
}

const describeInstanceCreditSpecifications: Ec2Action = async (request) => {
  const { params } = request;
  const ids = instanceIds(params);
  const given = filters(params);
  checkFilterNames(given, ["instance-id"]);
  const max = maxResults(params, ids);
  const cursor = str(params, "NextToken", { max: 200 });
  unlessDryRun(request);
  const page = await request.bus.request(
    instances.describe,
    {
      ...visibility(request),
      ids: ids.length ? ids : undefined,
      filters: given as never,
      limit: Math.min(MAX_DESCRIBE_PAGE, max ?? MAX_DESCRIBE_PAGE),
      cursor,
    },
    requestContext(request),
  );
  return {
    instanceCreditSpecificationSet: xmlList(
      page.items.map((i) => ({ instanceId: i.instance_id, cpuCredits: cpuCreditsOf(i.instance_type) })),
    ),
    nextToken: page.next_cursor ?? undefined,
  };
};

export const instanceAttributeActions: Record<string, Ec2Action> = {
  ModifyInstanceAttribute: modifyInstanceAttribute,
  DescribeInstanceAttribute: describeInstanceAttribute,
  DescribeInstanceCreditSpecifications: describeInstanceCreditSpecifications,
};
