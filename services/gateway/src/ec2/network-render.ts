import type { ElasticIp, SecurityGroup, SecurityGroupRule, Subnet, Vpc } from "@cloudsim/shared";
import { regionCode } from "./actions/catalogue.ts";
import { tagSetXml } from "./render.ts";
import { type XmlObject, xmlList } from "./xml.ts";

/** A zone's id as DescribeAvailabilityZones shows it beside its name (use1-az1). */
const zoneIdOf = (zone: string) =>
  `${regionCode(zone.slice(0, -1))}-az${zone.charCodeAt(zone.length - 1) - 96}`;

export function vpcXml(vpc: Vpc): XmlObject {
  return {
    vpcId: vpc.vpc_id,
    ownerId: vpc.owner_id,
    state: "available",
    cidrBlock: vpc.cidr_block,
    cidrBlockAssociationSet: xmlList([
      {
        cidrBlock: vpc.cidr_block,
        associationId: `vpc-cidr-assoc-${vpc.vpc_id.slice(4)}`,
        cidrBlockState: { state: "associated" },
      },
    ]),
    ipv6CidrBlockAssociationSet: xmlList([]),
    dhcpOptionsId: "default",
    instanceTenancy: "default",
    isDefault: vpc.is_default,
    tagSet: tagSetXml(vpc.tags),
  };
}

export function subnetXml(subnet: Subnet, region: string): XmlObject {
  return {
    subnetId: subnet.subnet_id,
    subnetArn: `arn:aws:ec2:${region}:${subnet.owner_id}:subnet/${subnet.subnet_id}`,
    state: "available",
    vpcId: subnet.vpc_id,
    ownerId: subnet.owner_id,
    cidrBlock: subnet.cidr_block,
    availableIpAddressCount: subnet.available_ip_address_count,
    availabilityZone: subnet.availability_zone,
    availabilityZoneId: zoneIdOf(subnet.availability_zone),
    defaultForAz: subnet.default_for_az,
    mapPublicIpOnLaunch: subnet.map_public_ip_on_launch,
    mapCustomerOwnedIpOnLaunch: false,
    assignIpv6AddressOnCreation: false,
    ipv6CidrBlockAssociationSet: xmlList([]),
    enableDns64: false,
    ipv6Native: false,
    tagSet: tagSetXml(subnet.tags),
  };
}

/** Rules as EC2's IpPermissions: one per protocol and port range, its targets listed under it. */
export function ipPermissionsXml(rules: readonly SecurityGroupRule[], ownerId: string) {
  const permissions = new Map<string, { head: SecurityGroupRule; rules: SecurityGroupRule[] }>();
  for (const rule of rules) {
    const key = `${rule.protocol} ${rule.from_port} ${rule.to_port}`;
    const entry = permissions.get(key) ?? { head: rule, rules: [] };
    entry.rules.push(rule);
    permissions.set(key, entry);
  }
  const described = (rule: SecurityGroupRule) =>
    rule.description === null ? {} : { description: rule.description };
  return xmlList(
    [...permissions.values()].map(({ head, rules: members }) => ({
      ipProtocol: head.protocol,
      // All protocols have no ports: EC2 leaves them out, and Ansible compares rules so.
      fromPort: head.from_port ?? undefined,
      toPort: head.to_port ?? undefined,
      groups: xmlList(
        members.flatMap((r) =>
          r.referenced_group_id ? [{ userId: ownerId, groupId: r.referenced_group_id, ...described(r) }] : [],
        ),
      ),
      ipRanges: xmlList(
        members.flatMap((r) => (r.cidr_ipv4 ? [{ cidrIp: r.cidr_ipv4, ...described(r) }] : [])),
      ),
      ipv6Ranges: xmlList(
        members.flatMap((r) => (r.cidr_ipv6 ? [{ cidrIpv6: r.cidr_ipv6, ...described(r) }] : [])),
      ),
      prefixListIds: xmlList([]),
    })),
  );
}

export function securityGroupXml(group: SecurityGroup): XmlObject {
  return {
    ownerId: group.owner_id,
    groupId: group.group_id,
    groupName: group.group_name,
    groupDescription: group.description,
    vpcId: group.vpc_id,
    ipPermissions: ipPermissionsXml(
      group.rules.filter((r) => !r.is_egress),
      group.owner_id,
    ),
    ipPermissionsEgress: ipPermissionsXml(
      group.rules.filter((r) => r.is_egress),
      group.owner_id,
    ),
    tagSet: tagSetXml(group.tags),
  };
}

/** A rule as AuthorizeSecurityGroupIngress/Egress answer it (securityGroupRuleSet). */
export function securityGroupRuleXml(rule: SecurityGroupRule, ownerId: string): XmlObject {
  return {
    securityGroupRuleId: rule.rule_id,
    groupId: rule.group_id,
    groupOwnerId: ownerId,
    isEgress: rule.is_egress,
    ipProtocol: rule.protocol,
    fromPort: rule.from_port ?? -1,
    toPort: rule.to_port ?? -1,
    cidrIpv4: rule.cidr_ipv4 ?? undefined,
    cidrIpv6: rule.cidr_ipv6 ?? undefined,
    referencedGroupInfo: rule.referenced_group_id
      ? { groupId: rule.referenced_group_id, userId: ownerId }
      : undefined,
    description: rule.description ?? undefined,
    tagSet: xmlList([]),
  };
}

export function addressXml(address: ElasticIp): XmlObject {
  return {
    publicIp: address.public_ip,
    allocationId: address.allocation_id,
    domain: "vpc",
    instanceId: address.instance_id ?? undefined,
    associationId: address.association_id ?? undefined,
    networkInterfaceId: address.network_interface_id ?? undefined,
    networkInterfaceOwnerId: address.network_interface_id ? address.owner_id : undefined,
    privateIpAddress: address.private_ip_address ?? undefined,
    publicIpv4Pool: "amazon",
    tagSet: tagSetXml(address.tags),
  };
}
