import type { Instance } from "@cloudsim/shared";
import { type XmlObject, xmlList } from "./xml.ts";

/** An instance's Elastic IP, as ipam answers it for a describe page. */
export interface PublicAddress {
  public_ip: string;
  allocation_id: string;
  association_id: string;
}
/** Public addresses by server id. */
export type PublicAddresses = ReadonlyMap<string, PublicAddress>;

/**
 * An instance's primary network interface: `eni-` and the instance id's hex digits, so either
 * id gives the other without a look-up (cloudsim has no interfaces apart from instances).
 */
export const networkInterfaceIdOf = (instanceId: string) => `eni-${instanceId.slice(2)}`;
export const instanceIdOfInterface = (interfaceId: string) => `i-${interfaceId.slice(4)}`;

/** Whether an instance has its interface: it holds an address and has not ended. */
export const hasInterface = (instance: Instance) =>
  instance.private_ip_address !== null && instance.state_name !== "terminated";

/** A public address's DNS name, as EC2 names them (us-east-1's compute-1). */
export function publicDnsName(ip: string, region: string): string {
  const domain = region === "us-east-1" ? "compute-1.amazonaws.com" : `${region}.compute.amazonaws.com`;
  return `ec2-${ip.replaceAll(".", "-")}.${domain}`;
}

/** A MAC address derived from the instance id, stable as EC2's is for an interface's life. */
const macOf = (instanceId: string) =>
  `0e:${(instanceId.slice(2).padEnd(10, "0").match(/../g) ?? []).slice(0, 5).join(":")}`;

/**
 * The interface as DescribeNetworkInterfaces shows it (`standalone`) or inside an instance's
 * networkInterfaceSet: its addresses, groups, attachment at device index 0 and public association.
 */
export function networkInterfaceXml(
  instance: Instance,
  address: PublicAddress | undefined,
  standalone: boolean,
): XmlObject {
  const association = address
    ? {
        publicIp: address.public_ip,
        publicDnsName: publicDnsName(address.public_ip, instance.region),
        ipOwnerId: instance.owner_id,
      }
    : undefined;
  const groups = xmlList(instance.security_groups.map((g) => ({ groupId: g.id, groupName: g.name })));
  const attachment = {
    attachmentId: `eni-attach-${instance.instance_id.slice(2)}`,
    ...(standalone ? { instanceId: instance.instance_id, instanceOwnerId: instance.owner_id } : {}),
    deviceIndex: 0,
    networkCardIndex: 0,
    status: "attached",
    attachTime: instance.launch_time,
    deleteOnTermination: true,
  };
  return {
    networkInterfaceId: networkInterfaceIdOf(instance.instance_id),
    subnetId: instance.subnet_id,
    vpcId: instance.vpc_id,
    availabilityZone: standalone ? instance.availability_zone : undefined,
    description: "",
    ownerId: instance.owner_id,
    requesterManaged: standalone ? false : undefined,
    status: "in-use",
    macAddress: macOf(instance.instance_id),
    privateIpAddress: instance.private_ip_address,
    privateDnsName: instance.private_dns_name,
    sourceDestCheck: instance.source_dest_check,
    groupSet: groups,
    attachment,
    association,
    tagSet: standalone ? xmlList([]) : undefined,
    privateIpAddressesSet: xmlList([
      {
        privateIpAddress: instance.private_ip_address ?? "",
        privateDnsName: instance.private_dns_name,
        primary: true,
        association,
      },
    ]),
    ipv6AddressesSet: xmlList([]),
    interfaceType: "interface",
  };
}
