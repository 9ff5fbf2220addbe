import {
  type Ec2StateName,
  ec2StateCodes,
  ec2StateOf,
  type Instance,
  ROOT_DEVICE,
  type ServerState,
} from "@cloudsim/shared";
import {
  hasInterface,
  networkInterfaceXml,
  type PublicAddresses,
  publicDnsName,
} from "./network-interfaces.ts";
import { type XmlObject, xmlList } from "./xml.ts";

/** `{code, name}` of one of our states, as EC2 shows it. */
export function stateXml(state: ServerState): XmlObject {
  const name: Ec2StateName = ec2StateOf[state];
  return { code: ec2StateCodes[name], name };
}

/** What each state reason code says (EC2's own wording). */
const stateReasonMessages: Record<string, string> = {
  pending: "pending",
  "Client.UserInitiatedShutdown": "Client.UserInitiatedShutdown: User initiated shutdown",
  "Server.InternalError": "Server.InternalError: Internal error on launch",
};

export const tagSetXml = (tags: Record<string, string>) =>
  xmlList(Object.entries(tags).map(([key, value]) => ({ key, value })));

/** The volumes attached to an instance, as its blockDeviceMapping (and DescribeInstanceAttribute's) lists them. */
export const blockDeviceMappingXml = (instance: Instance) =>
  xmlList(
    instance.block_devices.map((d) => ({
      deviceName: d.device,
      ebs: {
        volumeId: d.volume_id,
        status: d.status,
        attachTime: d.attach_time,
        deleteOnTermination: d.delete_on_termination,
      },
    })),
  );

/** One instance as RunInstances and DescribeInstances show it (EC2.md §3.1), with its Elastic IP if any. */
export function instanceXml(
  instance: Instance,
  launchIndex = 0,
  publicAddresses: PublicAddresses = new Map(),
): XmlObject {
  const code = instance.state_reason_code;
  const address = hasInterface(instance) ? publicAddresses.get(instance.id) : undefined;
  const dnsName = address ? publicDnsName(address.public_ip, instance.region) : "";
  return {
    instanceId: instance.instance_id,
    imageId: instance.image_id,
    instanceState: stateXml(instance.state),
    privateDnsName: instance.private_dns_name,
    dnsName,
    reason: instance.reason,
    keyName: instance.key_name,
    amiLaunchIndex: launchIndex,
    productCodes: xmlList([]),
    instanceType: instance.instance_type,
    launchTime: instance.launch_time,
    placement: { availabilityZone: instance.availability_zone, groupName: "", tenancy: "default" },
    monitoring: { state: "disabled" },
    subnetId: instance.subnet_id,
    vpcId: instance.vpc_id,
    privateIpAddress: instance.private_ip_address,
    ipAddress: address?.public_ip,
    sourceDestCheck: instance.source_dest_check,
    groupSet: xmlList(instance.security_groups.map((g) => ({ groupId: g.id, groupName: g.name }))),
    stateReason: code ? { code, message: stateReasonMessages[code] ?? code } : undefined,
    architecture: instance.architecture,
    rootDeviceType: "ebs",
    rootDeviceName: ROOT_DEVICE,
    blockDeviceMapping: blockDeviceMappingXml(instance),
    virtualizationType: "hvm",
    clientToken: instance.client_token ?? "",
    tagSet: tagSetXml(instance.tags),
    hypervisor: "xen",
    networkInterfaceSet: xmlList(
      hasInterface(instance) ? [networkInterfaceXml(instance, address, false)] : [],
    ),
    ebsOptimized: false,
    enaSupport: true,
    cpuOptions: undefined,
    hibernationOptions: { configured: false },
    metadataOptions: { state: "applied", httpTokens: "required", httpEndpoint: "enabled" },
  };
}

/** Reservations as DescribeInstances lists them: consecutive instances of one reservation together. */
export function reservationsXml(
  instances: readonly Instance[],
  publicAddresses: PublicAddresses,
): XmlObject[] {
  const groups: Instance[][] = [];
  for (const instance of instances) {
    const group = groups[groups.length - 1];
    if (group && group[0]?.reservation_id === instance.reservation_id) group.push(instance);
    else groups.push([instance]);
  }
  return groups.map((group) => reservationXml(group, publicAddresses));
}

/** A reservation's members; RunInstances answers exactly this at its root. */
export function reservationXml(instances: readonly Instance[], publicAddresses?: PublicAddresses): XmlObject {
  const first = instances[0];
  return {
    reservationId: first?.reservation_id,
    ownerId: first?.owner_id,
    groupSet: xmlList([]),
    instancesSet: xmlList(instances.map((instance, i) => instanceXml(instance, i, publicAddresses))),
  };
}

/** The statuses of a running instance: `initializing` until its checks have run for `checkDelayMs`. */
export function instanceStatusXml(instance: Instance, checkDelayMs: number, now: number): XmlObject {
  const running = instance.state_name === "running";
  const since = instance.running_since ? Date.parse(instance.running_since) : Number.NaN;
  const checked = running && now - since >= checkDelayMs;
  const summary = !running ? "not-applicable" : checked ? "ok" : "initializing";
  const detail = !running ? "not-applicable" : checked ? "passed" : "initializing";
  const status = { status: summary, details: xmlList([{ name: "reachability", status: detail }]) };
  return {
    instanceId: instance.instance_id,
    availabilityZone: instance.availability_zone,
    eventsSet: xmlList([]),
    instanceState: stateXml(instance.state),
    systemStatus: status,
    instanceStatus: status,
  };
}
