import {
  CreateSubnetCommand,
  CreateTagsCommand,
  CreateVpcCommand,
  DeleteSubnetCommand,
  DeleteTagsCommand,
  DeleteVpcCommand,
  DescribeInstancesCommand,
  DescribeSubnetsCommand,
  DescribeTagsCommand,
  DescribeVpcAttributeCommand,
  DescribeVpcClassicLinkCommand,
  DescribeVpcsCommand,
  type EC2Client,
  ModifySubnetAttributeCommand,
  ModifyVpcAttributeCommand,
  RunInstancesCommand,
  TerminateInstancesCommand,
  waitUntilInstanceTerminated,
  waitUntilSubnetAvailable,
  waitUntilVpcAvailable,
  waitUntilVpcExists,
} from "@aws-sdk/client-ec2";
import { describe, expect, it } from "vitest";
import {
  DEFAULT_AMI,
  ec2Env,
  ec2Tenant,
  expectEc2Error,
  instancesOf,
  launch,
  waiterOf,
} from "./ec2-helpers.ts";
import { eventually, useStack } from "./harness.ts";

/** The default VPC's id in a region: the same stable hash lifecycle shows on its instances. */
const createVpc = async (ec2: EC2Client, cidr: string, name?: string) =>
  (
    await ec2.send(
      new CreateVpcCommand({
        CidrBlock: cidr,
        TagSpecifications: name ? [{ ResourceType: "vpc", Tags: [{ Key: "Name", Value: name }] }] : undefined,
      }),
    )
  ).Vpc?.VpcId ?? "";

const createSubnet = async (ec2: EC2Client, vpcId: string, cidr: string, zone?: string) =>
  (await ec2.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: cidr, AvailabilityZone: zone }))).Subnet
    ?.SubnetId ?? "";

describe("VPCs and subnets through the AWS SDK", () => {
  const s = useStack({ env: { ...ec2Env, IP_REUSE_COOLDOWN: "0s" } });

  it("shows the region's default VPC and a default subnet per zone, the same ids instances show", async () => {
    const { ec2, rest } = await ec2Tenant(s.stack.url, "defaults");
    const { Vpcs } = await ec2.send(
      new DescribeVpcsCommand({ Filters: [{ Name: "is-default", Values: ["true"] }] }),
    );
    expect(Vpcs).toHaveLength(1);
    const vpc = Vpcs?.[0];
    expect(vpc).toMatchObject({ IsDefault: true, State: "available" });
    const pools = await rest.get("/ipam/pools");
    const pool = (pools.body.items as { region: string; cidr: string }[]).find(
      (p) => p.region === "us-east-1",
    );
    expect(vpc?.CidrBlock).toBe(pool?.cidr);
    const { Subnets } = await ec2.send(
      new DescribeSubnetsCommand({ Filters: [{ Name: "vpc-id", Values: [vpc?.VpcId ?? ""] }] }),
    );
    expect(Subnets?.map((subnet) => subnet.AvailabilityZone).sort()).toEqual([
      "us-east-1a",
      "us-east-1b",
      "us-east-1c",
    ]);
    expect(Subnets?.every((subnet) => subnet.DefaultForAz && subnet.MapPublicIpOnLaunch)).toBe(true);
    expect(Subnets?.every((subnet) => subnet.CidrBlock === pool?.cidr)).toBe(true);

    const [id] = await launch(ec2, 1, { Placement: { AvailabilityZone: "us-east-1b" } });
    const instance = instancesOf(
      (await ec2.send(new DescribeInstancesCommand({ InstanceIds: [id as string] }))).Reservations,
    )[0];
    expect(instance?.VpcId).toBe(vpc?.VpcId);
    expect(instance?.SubnetId).toBe(
      Subnets?.find((subnet) => subnet.AvailabilityZone === "us-east-1b")?.SubnetId,
    );

    const denied = await expectEc2Error(
      ec2.send(new DeleteVpcCommand({ VpcId: vpc?.VpcId })),
      "OperationNotPermitted",
    );
    expect(denied.message).toMatch(/shared by every tenant/);
    await expectEc2Error(
      ec2.send(new CreateSubnetCommand({ VpcId: vpc?.VpcId, CidrBlock: "10.0.200.0/24" })),
      "OperationNotPermitted",
    );
  });

  it("creates a VPC, waited for, with its tags, attributes and ClassicLink answer; deletes it", async () => {
    const { ec2 } = await ec2Tenant(s.stack.url, "vpc-life");
    const id = await createVpc(ec2, "10.20.0.0/16", "demo");
    expect(id).toMatch(/^vpc-[0-9a-f]{17}$/);
    await waitUntilVpcExists(waiterOf(ec2), { VpcIds: [id] });
    await waitUntilVpcAvailable(waiterOf(ec2), { VpcIds: [id] });
    const { Vpcs } = await ec2.send(
      new DescribeVpcsCommand({
        Filters: [
          { Name: "tag:Name", Values: ["demo"] },
          { Name: "cidr-block", Values: ["10.20.0.0/16"] },
        ],
      }),
    );
    expect(Vpcs).toMatchObject([{ VpcId: id, IsDefault: false, Tags: [{ Key: "Name", Value: "demo" }] }]);
    expect(Vpcs?.[0]?.CidrBlockAssociationSet?.[0]?.CidrBlockState?.State).toBe("associated");

    const attribute = async (Attribute: "enableDnsSupport" | "enableDnsHostnames") =>
      ec2.send(new DescribeVpcAttributeCommand({ VpcId: id, Attribute }));
    expect((await attribute("enableDnsSupport")).EnableDnsSupport?.Value).toBe(true);
    expect((await attribute("enableDnsHostnames")).EnableDnsHostnames?.Value).toBe(false);
    await ec2.send(new ModifyVpcAttributeCommand({ VpcId: id, EnableDnsHostnames: { Value: true } }));
    expect((await attribute("enableDnsHostnames")).EnableDnsHostnames?.Value).toBe(true);

    const classic = await ec2.send(new DescribeVpcClassicLinkCommand({ VpcIds: [id] }));
    expect(classic.Vpcs).toMatchObject([{ VpcId: id, ClassicLinkEnabled: false }]);

    await ec2.send(new CreateTagsCommand({ Resources: [id], Tags: [{ Key: "env", Value: "test" }] }));
    const tags = await ec2.send(
      new DescribeTagsCommand({ Filters: [{ Name: "resource-id", Values: [id] }] }),
    );
    expect(tags.Tags?.map((t) => [t.Key, t.Value, t.ResourceType])).toEqual([
      ["Name", "demo", "vpc"],
      ["env", "test", "vpc"],
    ]);
    await ec2.send(new DeleteTagsCommand({ Resources: [id], Tags: [{ Key: "env" }] }));
    expect((await ec2.send(new DescribeVpcsCommand({ VpcIds: [id] }))).Vpcs?.[0]?.Tags).toEqual([
      { Key: "Name", Value: "demo" },
    ]);

    await ec2.send(new DeleteVpcCommand({ VpcId: id }));
    await expectEc2Error(ec2.send(new DescribeVpcsCommand({ VpcIds: [id] })), "InvalidVpcID.NotFound");
    await expectEc2Error(ec2.send(new DeleteVpcCommand({ VpcId: id })), "InvalidVpcID.NotFound");
  });

  it("refuses a VPC block outside /16 to /28, malformed ids, and unknown filters", async () => {
    const { ec2 } = await ec2Tenant(s.stack.url, "vpc-errors");
    await expectEc2Error(ec2.send(new CreateVpcCommand({ CidrBlock: "10.0.0.0/8" })), "InvalidVpc.Range");
    await expectEc2Error(ec2.send(new CreateVpcCommand({ CidrBlock: "10.0.0.0/29" })), "InvalidVpc.Range");
    await expectEc2Error(ec2.send(new CreateVpcCommand({ CidrBlock: "10.0.0.1/16" })), "InvalidVpc.Range");
    await expectEc2Error(
      ec2.send(new DescribeVpcsCommand({ VpcIds: ["vpc-nothex"] })),
      "InvalidVpcID.Malformed",
    );
    await expectEc2Error(
      ec2.send(new DescribeVpcsCommand({ Filters: [{ Name: "no-such-filter", Values: ["x"] }] })),
      "InvalidParameterValue",
    );
  });

  it("creates subnets inside the VPC, refusing ranges outside it and overlaps; counts free addresses", async () => {
    const { ec2 } = await ec2Tenant(s.stack.url, "subnets");
    const vpc = await createVpc(ec2, "10.30.0.0/16");
    const subnet = await createSubnet(ec2, vpc, "10.30.1.0/24", "us-east-1b");
    await waitUntilSubnetAvailable(waiterOf(ec2), { SubnetIds: [subnet] });
    const { Subnets } = await ec2.send(
      new DescribeSubnetsCommand({
        Filters: [
          { Name: "vpc-id", Values: [vpc] },
          { Name: "cidr-block", Values: ["10.30.1.0/24"] },
        ],
      }),
    );
    expect(Subnets).toMatchObject([
      {
        SubnetId: subnet,
        VpcId: vpc,
        CidrBlock: "10.30.1.0/24",
        AvailabilityZone: "us-east-1b",
        AvailableIpAddressCount: 251,
        DefaultForAz: false,
        MapPublicIpOnLaunch: false,
        State: "available",
      },
    ]);
    const first = await createSubnet(ec2, vpc, "10.30.2.0/28");
    expect((await ec2.send(new DescribeSubnetsCommand({ SubnetIds: [first] }))).Subnets?.[0]).toMatchObject({
      AvailabilityZone: "us-east-1a",
      AvailableIpAddressCount: 11,
    });
    await expectEc2Error(
      ec2.send(new CreateSubnetCommand({ VpcId: vpc, CidrBlock: "10.31.0.0/24" })),
      "InvalidSubnet.Range",
    );
    await expectEc2Error(
      ec2.send(new CreateSubnetCommand({ VpcId: vpc, CidrBlock: "10.30.3.0/29" })),
      "InvalidSubnet.Range",
    );
    await expectEc2Error(
      ec2.send(new CreateSubnetCommand({ VpcId: vpc, CidrBlock: "10.30.1.128/25" })),
      "InvalidSubnet.Conflict",
    );
    await expectEc2Error(
      ec2.send(new CreateSubnetCommand({ VpcId: "vpc-0123456789abcdef0", CidrBlock: "10.30.9.0/24" })),
      "InvalidVpcID.NotFound",
    );
    await ec2.send(
      new ModifySubnetAttributeCommand({ SubnetId: subnet, MapPublicIpOnLaunch: { Value: true } }),
    );
    expect(
      (await ec2.send(new DescribeSubnetsCommand({ SubnetIds: [subnet] }))).Subnets?.[0]?.MapPublicIpOnLaunch,
    ).toBe(true);

    const dependency = await expectEc2Error(
      ec2.send(new DeleteVpcCommand({ VpcId: vpc })),
      "DependencyViolation",
    );
    expect(dependency.message).toMatch(/has dependencies/);
    await ec2.send(new DeleteSubnetCommand({ SubnetId: subnet }));
    await ec2.send(new DeleteSubnetCommand({ SubnetId: first }));
    await expectEc2Error(
      ec2.send(new DescribeSubnetsCommand({ SubnetIds: [subnet] })),
      "InvalidSubnetID.NotFound",
    );
    await ec2.send(new DeleteVpcCommand({ VpcId: vpc }));
  });

  it("launches into a subnet: its addresses, VPC and zone; a subnet with instances is not deleted", async () => {
    const { ec2 } = await ec2Tenant(s.stack.url, "launch-subnet");
    const vpc = await createVpc(ec2, "10.40.0.0/16");
    const subnet = await createSubnet(ec2, vpc, "10.40.7.0/24", "us-east-1c");
    const ids = await launch(ec2, 3, { SubnetId: subnet });
    const found = instancesOf(
      (await ec2.send(new DescribeInstancesCommand({ InstanceIds: ids }))).Reservations,
    );
    expect(found.map((i) => [i.SubnetId, i.VpcId, i.Placement?.AvailabilityZone])).toEqual(
      ids.map(() => [subnet, vpc, "us-east-1c"]),
    );
    for (const instance of found) {
      const last = Number(instance.PrivateIpAddress?.split(".")[3]);
      expect(instance.PrivateIpAddress).toMatch(/^10\.40\.7\./);
      // AWS keeps the first four and the last address of a subnet.
      expect(last).toBeGreaterThanOrEqual(4);
      expect(last).toBeLessThanOrEqual(254);
    }
    expect(
      (await ec2.send(new DescribeSubnetsCommand({ SubnetIds: [subnet] }))).Subnets?.[0]
        ?.AvailableIpAddressCount,
    ).toBe(248);
    await expectEc2Error(ec2.send(new DeleteSubnetCommand({ SubnetId: subnet })), "DependencyViolation");

    await ec2.send(new TerminateInstancesCommand({ InstanceIds: ids }));
    await waitUntilInstanceTerminated(waiterOf(ec2), { InstanceIds: ids });
    // Terminated, the instances' addresses go back to the subnet's pool, and then it can go.
    await eventually(async () => {
      const { Subnets } = await ec2.send(new DescribeSubnetsCommand({ SubnetIds: [subnet] }));
      return Subnets?.[0]?.AvailableIpAddressCount === 251 ? true : undefined;
    });
    await ec2.send(new DeleteSubnetCommand({ SubnetId: subnet }));
    await expectEc2Error(
      ec2.send(new RunInstancesCommand({ ImageId: DEFAULT_AMI, MinCount: 1, MaxCount: 1, SubnetId: subnet })),
      "InvalidSubnetID.NotFound",
    );
  });

  it("never gives one address to two instances of a subnet under concurrent launches, and says when it is full", async () => {
    const { ec2 } = await ec2Tenant(s.stack.url, "full-subnet");
    const vpc = await createVpc(ec2, "10.50.0.0/16");
    const subnet = await createSubnet(ec2, vpc, "10.50.0.0/28");
    // A /28 holds 11 launchable addresses: 14 concurrent launches of one, and 3 must find it full.
    const launches = await Promise.allSettled(
      Array.from({ length: 14 }, () =>
        ec2.send(
          new RunInstancesCommand({
            ImageId: DEFAULT_AMI,
            InstanceType: "t2.nano",
            MinCount: 1,
            MaxCount: 1,
            SubnetId: subnet,
          }),
        ),
      ),
    );
    const launched = launches.flatMap((r) => (r.status === "fulfilled" ? (r.value.Instances ?? []) : []));
    const refused = launches.flatMap((r) => (r.status === "rejected" ? [r.reason as Error] : []));
    expect(launched).toHaveLength(11);
    expect(new Set(launched.map((i) => i.PrivateIpAddress)).size).toBe(11);
    expect(refused.map((e) => e.name)).toEqual(Array(3).fill("InsufficientFreeAddressesInSubnet"));
    expect(refused[0]?.message).toContain(subnet);
    expect(
      (await ec2.send(new DescribeSubnetsCommand({ SubnetIds: [subnet] }))).Subnets?.[0]
        ?.AvailableIpAddressCount,
    ).toBe(0);
    const many = await expectEc2Error(
      ec2.send(new RunInstancesCommand({ ImageId: DEFAULT_AMI, MinCount: 2, MaxCount: 2, SubnetId: subnet })),
      "InsufficientFreeAddressesInSubnet",
    );
    expect(many.message).toContain(subnet);
  });

  it("keeps each tenant's VPCs and subnets its own", async () => {
    const mine = await ec2Tenant(s.stack.url, "vpc-owner");
    const theirs = await ec2Tenant(s.stack.url, "vpc-other");
    const vpc = await createVpc(mine.ec2, "10.60.0.0/16");
    const subnet = await createSubnet(mine.ec2, vpc, "10.60.1.0/24");
    await expectEc2Error(
      theirs.ec2.send(new DescribeVpcsCommand({ VpcIds: [vpc] })),
      "InvalidVpcID.NotFound",
    );
    await expectEc2Error(
      theirs.ec2.send(new DescribeSubnetsCommand({ SubnetIds: [subnet] })),
      "InvalidSubnetID.NotFound",
    );
    await expectEc2Error(theirs.ec2.send(new DeleteVpcCommand({ VpcId: vpc })), "InvalidVpcID.NotFound");
    await expectEc2Error(
      theirs.ec2.send(new CreateSubnetCommand({ VpcId: vpc, CidrBlock: "10.60.2.0/24" })),
      "InvalidVpcID.NotFound",
    );
    await expectEc2Error(
      theirs.ec2.send(
        new RunInstancesCommand({ ImageId: DEFAULT_AMI, MinCount: 1, MaxCount: 1, SubnetId: subnet }),
      ),
      "InvalidSubnetID.NotFound",
    );
    await expectEc2Error(
      theirs.ec2.send(new CreateTagsCommand({ Resources: [vpc], Tags: [{ Key: "x", Value: "y" }] })),
      "InvalidVpcID.NotFound",
    );
    const visible = (await theirs.ec2.send(new DescribeVpcsCommand({}))).Vpcs?.map((v) => v.VpcId);
    expect(visible).not.toContain(vpc);
    expect((await theirs.ec2.send(new DescribeTagsCommand({}))).Tags ?? []).toEqual([]);
  });
});
