import {
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  DescribeVpcsCommand,
  EC2Client,
} from "@aws-sdk/client-ec2";
import { describe, expect, it } from "vitest";
import { type Answer, client, eventually, useStack } from "./harness.ts";
import { authEnv, newTenant } from "./tenancy-helpers.ts";

/**
 * The Neutron subset at /network/<region>/v2.0: networks are ipam's VPCs, subnets its subnets,
 * ports the servers' interfaces, security groups and floating IPs its security groups and Elastic
 * IPs; and Nova's server create on a network, with a key pair and a security group.
 */

const network = "/network/us-east-1/v2.0";
const compute = "/compute/us-east-1/v2.1";

function expectNeutronError(res: Answer, status: number, type: string, message?: RegExp) {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.body.NeutronError?.type, JSON.stringify(res.body)).toBe(type);
  if (message) expect(res.body.NeutronError.message).toMatch(message);
}

describe("the Neutron subset", () => {
  const ctx = useStack({ env: { ...authEnv, OPENSTACK_MAX_PAGE: "2", TERMINATE_DELAY: "200ms" } });
  const api = client(() => ctx.stack.url);

  async function tenantWithEc2(name: string) {
    const tenant = await newTenant(ctx.stack.url, name);
    const h = { "x-auth-token": tenant.key };
    const ec2 = new EC2Client({
      endpoint: ctx.stack.url,
      region: "us-east-1",
      credentials: { accessKeyId: tenant.keyId, secretAccessKey: tenant.key },
    });
    return { tenant, h, ec2 };
  }

  it("lists the default and public networks, makes a network and subnet that EC2 sees as a VPC and subnet", async () => {
    const { tenant, h, ec2 } = await tenantWithEc2("nets");
    const versions = await api.get("/network/us-east-1/");
    expect(versions.body.versions[0]).toMatchObject({ id: "v2.0", status: "CURRENT" });

    const listed = await api.get(`${network}/networks`, h);
    expect(listed.status, JSON.stringify(listed.body)).toBe(200);
    const names = listed.body.networks.map((n: { name: string }) => n.name);
    expect(names).toEqual(["public", "private"]);
    expect(listed.body.networks[0]).toMatchObject({ "router:external": true, id: "public-us-east-1" });

    const made = await api.post(`${network}/networks`, { network: { name: "blue" } }, h);
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    expect(made.body.network).toMatchObject({
      name: "blue",
      status: "ACTIVE",
      subnets: [],
      project_id: tenant.id,
    });
    const netId: string = made.body.network.id;
    const vpc = (await ec2.send(new DescribeVpcsCommand({ VpcIds: [netId] }))).Vpcs?.[0];
    expect(vpc).toMatchObject({ CidrBlock: "0.0.0.0/0", Tags: [{ Key: "Name", Value: "blue" }] });

    const subnet = await api.post(
      `${network}/subnets`,
      { subnet: { network_id: netId, cidr: "192.168.7.0/24", ip_version: 4, name: "blue-a" } },
      h,
    );
    expect(subnet.status, JSON.stringify(subnet.body)).toBe(201);
    expect(subnet.body.subnet).toMatchObject({
      network_id: netId,
      cidr: "192.168.7.0/24",
      gateway_ip: "192.168.7.1",
      allocation_pools: [{ start: "192.168.7.4", end: "192.168.7.254" }],
      name: "blue-a",
    });
    const described = await ec2.send(new DescribeSubnetsCommand({ SubnetIds: [subnet.body.subnet.id] }));
    expect(described.Subnets?.[0]).toMatchObject({ VpcId: netId, CidrBlock: "192.168.7.0/24" });
    const shown = await api.get(`${network}/networks/${netId}`, h);
    expect(shown.body.network.subnets).toEqual([subnet.body.subnet.id]);

    // Overlapping its sibling, a bad gateway, IPv6, an unknown filter: Neutron's 400s.
    const overlap = await api.post(
      `${network}/subnets`,
      { subnet: { network_id: netId, cidr: "192.168.7.128/25" } },
      h,
    );
    expectNeutronError(overlap, 400, "InvalidInput", /conflicts/);
    const gateway = await api.post(
      `${network}/subnets`,
      { subnet: { network_id: netId, cidr: "192.168.8.0/24", gateway_ip: "192.168.8.9" } },
      h,
    );
    expectNeutronError(gateway, 400, "BadRequest", /gateway_ip.*192\.168\.8\.1/);
    const v6 = await api.post(
      `${network}/subnets`,
      { subnet: { network_id: netId, cidr: "fd00::/64", ip_version: 6 } },
      h,
    );
    expectNeutronError(v6, 400, "BadRequest", /ip_version/);
    expectNeutronError(await api.get(`${network}/networks?colour=blue`, h), 400, "BadRequest", /colour/);
    expectNeutronError(await api.get(`${network}/networks/vpc-00000000000000000`, h), 404, "NetworkNotFound");

    // Renamed; found by name; paged two at a time with a next link.
    const renamed = await api.call("PUT", `${network}/networks/${netId}`, { network: { name: "navy" } }, h);
    expect(renamed.body.network.name).toBe("navy");
    const byName = await api.get(`${network}/networks?name=navy`, h);
    expect(byName.body.networks.map((n: { id: string }) => n.id)).toEqual([netId]);
    const paged = await api.get(`${network}/networks?limit=1`, h);
    expect(paged.body.networks_links?.[0]?.rel).toBe("next");

    // Deleting the network takes its subnet with it, as Neutron's does.
    expect((await api.call("DELETE", `${network}/networks/${netId}`, undefined, h)).status).toBe(204);
    expectNeutronError(
      await api.get(`${network}/subnets/${subnet.body.subnet.id}`, h),
      404,
      "SubnetNotFound",
    );
  });

  it("boots a server on a network with a key pair and a group: its port, its floating IP, and the refusals", async () => {
    const { h, ec2 } = await tenantWithEc2("boot");
    const netId = (await api.post(`${network}/networks`, { network: { name: "app" } }, h)).body.network.id;
    const noSubnet = await api.post(
      `${compute}/servers`,
      {
        server: {
          name: "vm",
          imageRef: "ami-0c1a7f8e2d3b4a5c6",
          flavorRef: "t2.micro",
          networks: [{ uuid: netId }],
        },
      },
      h,
    );
    expect(noSubnet.status).toBe(400);
    expect(noSubnet.body.badRequest.message).toMatch(/requires a subnet/);
    const subnetId = (
      await api.post(`${network}/subnets`, { subnet: { network_id: netId, cidr: "10.50.0.0/24" } }, h)
    ).body.subnet.id;

    const group = await api.post(
      `${network}/security-groups`,
      { security_group: { name: "web", description: "w" } },
      h,
    );
    expect(group.status, JSON.stringify(group.body)).toBe(201);
    const groupId: string = group.body.security_group.id;
    const rule = {
      security_group_id: groupId,
      direction: "ingress",
      protocol: "tcp",
      port_range_min: 22,
      port_range_max: 22,
    };
    const added = await api.post(`${network}/security-group-rules`, { security_group_rule: rule }, h);
    expect(added.status, JSON.stringify(added.body)).toBe(201);
    expect(added.body.security_group_rule).toMatchObject({
      ...rule,
      ethertype: "IPv4",
      remote_ip_prefix: "0.0.0.0/0",
    });
    expectNeutronError(
      await api.post(`${network}/security-group-rules`, { security_group_rule: rule }, h),
      409,
      "SecurityGroupRuleExists",
    );
    const ec2Group = (await ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [groupId] })))
      .SecurityGroups?.[0];
    expect(ec2Group?.IpPermissions?.[0]).toMatchObject({ IpProtocol: "tcp", FromPort: 22, ToPort: 22 });

    await api.post(`${compute}/os-keypairs`, { keypair: { name: "k" } }, h);
    const body = (key: string) => ({
      server: {
        name: "vm",
        imageRef: "ami-0c1a7f8e2d3b4a5c6",
        flavorRef: "t2.micro",
        key_name: key,
        networks: [{ uuid: netId }],
        security_groups: [{ name: "web" }],
      },
    });
    const badKey = await api.post(`${compute}/servers`, body("nope"), h);
    expect(badKey.status).toBe(400);
    expect(badKey.body.badRequest.message).toBe("Invalid key_name provided.");
    const made = await api.post(`${compute}/servers`, body("k"), h);
    expect(made.status, JSON.stringify(made.body)).toBe(202);
    expect(made.body.server.security_groups).toEqual([{ name: "web" }]);
    const serverId: string = made.body.server.id;
    const active = await eventually(async () => {
      const s = (await api.get(`${compute}/servers/${serverId}`, h)).body.server;
      return s?.status === "ACTIVE" ? s : undefined;
    });
    expect(active.key_name).toBe("k");
    expect(active.security_groups).toEqual([{ name: "web" }]);
    const fixed: string = active.addresses.app[0].addr;
    expect(fixed).toMatch(/^10\.50\.0\./);

    const ports = await api.get(`${network}/ports?device_id=${serverId}`, h);
    expect(ports.body.ports).toHaveLength(1);
    const port = ports.body.ports[0];
    expect(port).toMatchObject({
      network_id: netId,
      device_id: serverId,
      fixed_ips: [{ subnet_id: subnetId, ip_address: fixed }],
      security_groups: [groupId],
      status: "ACTIVE",
    });
    expectNeutronError(
      await api.post(`${network}/ports`, { port: { network_id: netId } }, h),
      400,
      "BadRequest",
    );

    const fip = await api.post(
      `${network}/floatingips`,
      { floatingip: { floating_network_id: "public-us-east-1", port_id: port.id } },
      h,
    );
    expect(fip.status, JSON.stringify(fip.body)).toBe(201);
    expect(fip.body.floatingip).toMatchObject({
      port_id: port.id,
      fixed_ip_address: fixed,
      status: "ACTIVE",
    });
    const floating: string = fip.body.floatingip.floating_ip_address;
    const withFip = (await api.get(`${compute}/servers/${serverId}`, h)).body.server;
    expect(withFip.addresses.app).toContainEqual(
      expect.objectContaining({ addr: floating, "OS-EXT-IPS:type": "floating" }),
    );
    const off = await api.call(
      "PUT",
      `${network}/floatingips/${fip.body.floatingip.id}`,
      { floatingip: { port_id: null } },
      h,
    );
    expect(off.body.floatingip).toMatchObject({ port_id: null, status: "DOWN" });
    expectNeutronError(
      await api.post(`${network}/floatingips`, { floatingip: { floating_network_id: netId } }, h),
      404,
      "NetworkNotFound",
    );

    // A network a server is on stays; the group it is in too.
    expectNeutronError(
      await api.call("DELETE", `${network}/networks/${netId}`, undefined, h),
      409,
      "NetworkInUse",
    );
    expectNeutronError(
      await api.call("DELETE", `${network}/security-groups/${groupId}`, undefined, h),
      409,
      "InUse",
    );
    expect((await api.call("DELETE", `${compute}/servers/${serverId}`, undefined, h)).status).toBe(204);
    await eventually(async () =>
      (await api.get(`${network}/ports?device_id=${serverId}`, h)).body.ports.length === 0 ? true : undefined,
    );
    expect(
      (await api.call("DELETE", `${network}/floatingips/${fip.body.floatingip.id}`, undefined, h)).status,
    ).toBe(204);
    await eventually(async () => {
      const res = await api.call("DELETE", `${network}/networks/${netId}`, undefined, h);
      return res.status === 204 ? true : undefined;
    });
    const ruleId: string = added.body.security_group_rule.id;
    expect((await api.call("DELETE", `${network}/security-group-rules/${ruleId}`, undefined, h)).status).toBe(
      204,
    );
    expectNeutronError(
      await api.get(`${network}/security-group-rules/${ruleId}`, h),
      404,
      "SecurityGroupRuleNotFound",
    );
  });

  it("keeps each project's networks its own", async () => {
    const a = await tenantWithEc2("owner");
    const b = await tenantWithEc2("other");
    const netId = (await api.post(`${network}/networks`, { network: { name: "mine" } }, a.h)).body.network.id;
    expectNeutronError(await api.get(`${network}/networks/${netId}`, b.h), 404, "NetworkNotFound");
    const theirs = await api.get(`${network}/networks`, b.h);
    expect(theirs.body.networks.map((n: { id: string }) => n.id)).not.toContain(netId);
    expect((await api.get(`${network}/networks?project_id=${a.tenant.id}`, b.h)).body.networks).toEqual([]);
    expect((await api.get(`${network}/networks`, {})).status).toBe(401);
  });
});
