import type { ElasticIp, Instance, SecurityGroup, SecurityGroupRule, Subnet, Vpc } from "@cloudsim/shared";
import { intToIp, parseCidr, usableRange } from "@cloudsim/shared/cidr";
import { macOf, NETWORK_NAME } from "../render.ts";

/**
 * Neutron's bodies of ipam's and lifecycle's resources: a VPC is a network, its subnets are the
 * network's, an instance's interface is its port, an Elastic IP is a floating IP on the public
 * network. Neutron's names are the Name tag's (the default VPC's is "private").
 */

/** The public network, where floating IPs come from: one per region, every tenant's. */
export const PUBLIC_NETWORK_NAME = "public";
export const publicNetworkId = (region: string) => `public-${region}`;

/** Fields every Neutron resource has that cloudsim does not keep: fixed values. */
const unkept = { description: "", tags: [], revision_number: 1 };
const owned = (tenantId: string) => ({ tenant_id: tenantId, project_id: tenantId });
/** When ipam does not say when a resource was made, Neutron's times are left out of the past. */
const EPOCH = "1970-01-01T00:00:00Z";
const times = { created_at: EPOCH, updated_at: EPOCH };

const nameOf = (tags: Record<string, string>, fallback = "") => tags.Name ?? fallback;

function network(fields: {
  id: string;
  name: string;
  tenantId: string;
  subnets: string[];
  external: boolean;
}) {
  return {
    id: fields.id,
    name: fields.name,
    ...owned(fields.tenantId),
    status: "ACTIVE",
    admin_state_up: true,
    shared: fields.external,
    subnets: fields.subnets,
    "router:external": fields.external,
    mtu: 1500,
    port_security_enabled: true,
    availability_zone_hints: [],
    availability_zones: [],
    ipv4_address_scope: null,
    ipv6_address_scope: null,
    is_default: fields.external,
    l2_adjacency: true,
    qos_policy_id: null,
    dns_domain: "",
    ...unkept,
    ...times,
  };
}

export const networkBody = (vpc: Vpc, subnetIds: string[], tenantId: string) =>
  network({
    id: vpc.vpc_id,
    name: nameOf(vpc.tags, vpc.is_default ? NETWORK_NAME : ""),
    tenantId,
    subnets: subnetIds,
    external: false,
  });

export const publicNetworkBody = (region: string, tenantId: string) =>
  network({ id: publicNetworkId(region), name: PUBLIC_NETWORK_NAME, tenantId, subnets: [], external: true });

/** A subnet's gateway, the block's first address, and its pool: what it hands out (AWS keeps four). */
export function subnetLayout(cidr: string) {
  const block = parseCidr(cidr);
  const range = usableRange(block, 4);
  return {
    gateway_ip: intToIp(block.network + 1),
    allocation_pools: [{ start: intToIp(range.first), end: intToIp(range.last) }],
  };
}

export function subnetBody(subnet: Subnet, tenantId: string) {
  return {
    id: subnet.subnet_id,
    name: nameOf(subnet.tags),
    network_id: subnet.vpc_id,
    ...owned(tenantId),
    ip_version: 4,
    cidr: subnet.cidr_block,
    ...subnetLayout(subnet.cidr_block),
    enable_dhcp: true,
    dns_nameservers: [],
    host_routes: [],
    ipv6_ra_mode: null,
    ipv6_address_mode: null,
    subnetpool_id: null,
    service_types: [],
    segment_id: null,
    dns_publish_fixed_ip: false,
    ...unkept,
    ...times,
  };
}

/** An instance's one port: the EC2 face's network interface (eni-), with the server as its device. */
export function portBody(instance: Instance, tenantId: string) {
  return {
    id: `eni-${instance.instance_id.slice(2)}`,
    name: "",
    network_id: instance.vpc_id,
    ...owned(tenantId),
    mac_address: macOf(instance.id),
    admin_state_up: true,
    status: instance.state === "running" ? "ACTIVE" : "DOWN",
    device_id: instance.id,
    device_owner: `compute:${instance.availability_zone}`,
    fixed_ips: instance.private_ip_address
      ? [{ subnet_id: instance.subnet_id, ip_address: instance.private_ip_address }]
      : [],
    security_groups: instance.security_groups.map((g) => g.id),
    allowed_address_pairs: [],
    extra_dhcp_opts: [],
    port_security_enabled: true,
    "binding:vnic_type": "normal",
    dns_name: "",
    dns_assignment: [],
    ...unkept,
    created_at: instance.launch_time,
    updated_at: instance.launch_time,
  };
}

/** EC2's "-1" (every protocol) is Neutron's null; ports only where the protocol has them. */
export function ruleBody(rule: SecurityGroupRule, tenantId: string) {
  const ipv6 = rule.cidr_ipv6 !== null;
  const port = (value: number | null) => (value === null || value < 0 ? null : value);
  return {
    id: rule.rule_id,
    security_group_id: rule.group_id,
    direction: rule.is_egress ? "egress" : "ingress",
    ethertype: ipv6 ? "IPv6" : "IPv4",
    protocol: rule.protocol === "-1" ? null : rule.protocol,
    port_range_min: port(rule.from_port),
    port_range_max: port(rule.to_port),
    remote_ip_prefix: rule.cidr_ipv4 ?? rule.cidr_ipv6,
    remote_group_id: rule.referenced_group_id,
    remote_address_group_id: null,
    normalized_cidr: rule.cidr_ipv4 ?? rule.cidr_ipv6,
    ...owned(tenantId),
    ...unkept,
    description: rule.description ?? "",
    ...times,
  };
}

export function securityGroupBody(group: SecurityGroup, tenantId: string) {
  return {
    id: group.group_id,
    name: group.group_name,
    description: group.description,
    ...owned(tenantId),
    security_group_rules: group.rules.map((rule) => ruleBody(rule, tenantId)),
    stateful: true,
    shared: false,
    tags: [],
    revision_number: 1,
    ...times,
  };
}

export function floatingIpBody(address: ElasticIp, region: string, tenantId: string) {
  return {
    id: address.allocation_id,
    floating_ip_address: address.public_ip,
    floating_network_id: publicNetworkId(region),
    router_id: null,
    port_id: address.network_interface_id,
    fixed_ip_address: address.private_ip_address,
    status: address.association_id ? "ACTIVE" : "DOWN",
    port_details: null,
    dns_domain: "",
    dns_name: "",
    qos_policy_id: null,
    port_forwardings: [],
    ...owned(tenantId),
    ...unkept,
    ...times,
  };
}
