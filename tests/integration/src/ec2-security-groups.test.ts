import {
  AuthorizeSecurityGroupEgressCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  DeleteSecurityGroupCommand,
  DeleteVpcCommand,
  DescribeInstancesCommand,
  DescribeSecurityGroupsCommand,
  type EC2Client,
  RevokeSecurityGroupEgressCommand,
  RevokeSecurityGroupIngressCommand,
  RunInstancesCommand,
  TerminateInstancesCommand,
  waitUntilInstanceTerminated,
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
import { useStack } from "./harness.ts";

const ssh = {
  IpProtocol: "tcp",
  FromPort: 22,
  ToPort: 22,
  IpRanges: [{ CidrIp: "0.0.0.0/0", Description: "ssh" }],
};

async function newVpc(ec2: EC2Client, cidr: string) {
  const vpcId = (await ec2.send(new CreateVpcCommand({ CidrBlock: cidr }))).Vpc?.VpcId ?? "";
  return vpcId;
}

const groupOf = async (ec2: EC2Client, groupId: string) =>
  (await ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [groupId] }))).SecurityGroups?.[0];

describe("security groups through the AWS SDK", () => {
  const s = useStack({ env: ec2Env });

  it("gives each VPC a default group per tenant, made once, which cannot be deleted", async () => {
    const { ec2 } = await ec2Tenant(s.stack.url, "defaults");
    // Concurrent first reads make one default group, not several.
    const reads = await Promise.all(
      Array.from({ length: 5 }, () =>
        ec2.send(
          new DescribeSecurityGroupsCommand({ Filters: [{ Name: "group-name", Values: ["default"] }] }),
        ),
      ),
    );
    const ids = new Set(reads.flatMap((r) => r.SecurityGroups?.map((g) => g.GroupId) ?? []));
    expect(ids.size).toBe(1);
    const group = reads[0]?.SecurityGroups?.[0];
    expect(group?.IpPermissions).toEqual([
      {
        IpProtocol: "-1",
        UserIdGroupPairs: [{ GroupId: group?.GroupId, UserId: group?.OwnerId }],
        IpRanges: [],
        Ipv6Ranges: [],
        PrefixListIds: [],
      },
    ]);
    expect(group?.IpPermissionsEgress?.[0]).toMatchObject({
      IpProtocol: "-1",
      IpRanges: [{ CidrIp: "0.0.0.0/0" }],
    });
    await expectEc2Error(
      ec2.send(new DeleteSecurityGroupCommand({ GroupId: group?.GroupId })),
      "CannotDelete",
    );
    await expectEc2Error(ec2.send(new DeleteSecurityGroupCommand({ GroupName: "default" })), "CannotDelete");
  });

  it("creates a group with EC2's egress rule, authorizes and revokes rules, and refuses duplicates", async () => {
    const { ec2 } = await ec2Tenant(s.stack.url, "rules");
    const vpc = await newVpc(ec2, "10.70.0.0/16");
    const created = await ec2.send(
      new CreateSecurityGroupCommand({ GroupName: "web", Description: "web servers", VpcId: vpc }),
    );
    const id = created.GroupId ?? "";
    expect(id).toMatch(/^sg-[0-9a-f]{17}$/);
    expect((await groupOf(ec2, id))?.IpPermissionsEgress).toEqual([
      {
        IpProtocol: "-1",
        IpRanges: [{ CidrIp: "0.0.0.0/0" }],
        Ipv6Ranges: [],
        PrefixListIds: [],
        UserIdGroupPairs: [],
      },
    ]);
    await expectEc2Error(
      ec2.send(new CreateSecurityGroupCommand({ GroupName: "web", Description: "again", VpcId: vpc })),
      "InvalidGroup.Duplicate",
    );

    const authorized = await ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: id,
        IpPermissions: [
          ssh,
          { IpProtocol: "tcp", FromPort: 443, ToPort: 443, Ipv6Ranges: [{ CidrIpv6: "::/0" }] },
          { IpProtocol: "-1", UserIdGroupPairs: [{ GroupId: id }] },
        ],
      }),
    );
    expect(authorized.Return).toBe(true);
    expect(
      authorized.SecurityGroupRules?.map((r) => [
        r.IpProtocol,
        r.FromPort,
        r.CidrIpv4 ?? r.CidrIpv6 ?? r.ReferencedGroupInfo?.GroupId,
      ]),
    ).toEqual([
      ["tcp", 22, "0.0.0.0/0"],
      ["tcp", 443, "::/0"],
      ["-1", -1, id],
    ]);
    const group = await groupOf(ec2, id);
    expect(group?.IpPermissions).toContainEqual({
      IpProtocol: "tcp",
      FromPort: 22,
      ToPort: 22,
      IpRanges: [{ CidrIp: "0.0.0.0/0", Description: "ssh" }],
      Ipv6Ranges: [],
      PrefixListIds: [],
      UserIdGroupPairs: [],
    });
    const same = await expectEc2Error(
      ec2.send(
        new AuthorizeSecurityGroupIngressCommand({
          GroupId: id,
          IpPermissions: [{ ...ssh, IpRanges: [{ CidrIp: "0.0.0.0/0" }] }],
        }),
      ),
      "InvalidPermission.Duplicate",
    );
    expect(same.message).toMatch(/peer: 0.0.0.0\/0, TCP, from port: 22, to port: 22/);
    // The old-style parameters, as an older client sends them.
    await ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: id,
        IpProtocol: "udp",
        FromPort: 53,
        ToPort: 53,
        CidrIp: "10.0.0.0/8",
      }),
    );
    await ec2.send(
      new AuthorizeSecurityGroupEgressCommand({
        GroupId: id,
        IpPermissions: [
          { IpProtocol: "tcp", FromPort: 5432, ToPort: 5432, IpRanges: [{ CidrIp: "10.70.0.0/16" }] },
        ],
      }),
    );
    await ec2.send(
      new RevokeSecurityGroupEgressCommand({
        GroupId: id,
        IpPermissions: [{ IpProtocol: "-1", IpRanges: [{ CidrIp: "0.0.0.0/0" }] }],
      }),
    );
    await ec2.send(new RevokeSecurityGroupIngressCommand({ GroupId: id, IpPermissions: [ssh] }));
    await expectEc2Error(
      ec2.send(new RevokeSecurityGroupIngressCommand({ GroupId: id, IpPermissions: [ssh] })),
      "InvalidPermission.NotFound",
    );
    const after = await groupOf(ec2, id);
    expect(after?.IpPermissions?.map((p) => `${p.IpProtocol}:${p.FromPort ?? ""}`).sort()).toEqual([
      "-1:",
      "tcp:443",
      "udp:53",
    ]);
    expect(after?.IpPermissionsEgress?.map((p) => `${p.IpProtocol}:${p.FromPort}`)).toEqual(["tcp:5432"]);

    await expectEc2Error(
      ec2.send(
        new AuthorizeSecurityGroupIngressCommand({ GroupId: "sg-0123456789abcdef0", IpPermissions: [ssh] }),
      ),
      "InvalidGroup.NotFound",
    );
    await expectEc2Error(
      ec2.send(
        new AuthorizeSecurityGroupIngressCommand({
          GroupId: id,
          IpPermissions: [{ ...ssh, FromPort: 30, ToPort: 20 }],
        }),
      ),
      "InvalidParameterValue",
    );
    await expectEc2Error(
      ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: ["sg-bad"] })),
      "InvalidGroupId.Malformed",
    );
  });

  it("filters groups by name, VPC, description, owner, tags and permissions, refusing unknown filters", async () => {
    const { ec2 } = await ec2Tenant(s.stack.url, "filters");
    const vpc = await newVpc(ec2, "10.71.0.0/16");
    const { GroupId: id } = await ec2.send(
      new CreateSecurityGroupCommand({
        GroupName: "db",
        Description: "database",
        VpcId: vpc,
        TagSpecifications: [{ ResourceType: "security-group", Tags: [{ Key: "tier", Value: "data" }] }],
      }),
    );
    await ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: id, IpPermissions: [ssh] }));
    const named = async (Name: string, Values: string[]) =>
      (
        (await ec2.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name, Values }] }))).SecurityGroups ??
        []
      )
        .map((g) => g.GroupName)
        .sort();
    expect(await named("vpc-id", [vpc])).toEqual(["db", "default"]);
    expect(await named("group-name", ["d?"])).toEqual(["db"]);
    expect(await named("description", ["data*"])).toEqual(["db"]);
    expect(await named("tag:tier", ["data"])).toEqual(["db"]);
    expect(await named("tag-key", ["tier"])).toEqual(["db"]);
    expect(await named("ip-permission.from-port", ["22"])).toEqual(["db"]);
    expect(await named("ip-permission.cidr", ["0.0.0.0/0"])).toEqual(["db"]);
    expect(await named("ip-permission.protocol", ["tcp"])).toEqual(["db"]);
    expect(await named("group-id", [id ?? ""])).toEqual(["db"]);
    const owner = (await groupOf(ec2, id ?? ""))?.OwnerId ?? "";
    expect((await named("owner-id", [owner])).length).toBeGreaterThanOrEqual(2);
    await expectEc2Error(
      ec2.send(
        new DescribeSecurityGroupsCommand({ Filters: [{ Name: "ip-permission.bogus", Values: ["x"] }] }),
      ),
      "InvalidParameterValue",
    );
    const page = await ec2.send(new DescribeSecurityGroupsCommand({ MaxResults: 5 }));
    expect(page.SecurityGroups?.length).toBeLessThanOrEqual(5);
  });

  it("launches into groups by id and by name, shows them, and refuses unknown groups and other VPCs'", async () => {
    const { ec2 } = await ec2Tenant(s.stack.url, "launch-groups");
    const vpc = await newVpc(ec2, "10.72.0.0/16");
    const subnet =
      (await ec2.send(new CreateSubnetCommand({ VpcId: vpc, CidrBlock: "10.72.1.0/24" }))).Subnet?.SubnetId ??
      "";
    const { GroupId: web } = await ec2.send(
      new CreateSecurityGroupCommand({ GroupName: "web", Description: "w", VpcId: vpc }),
    );
    const { GroupId: elsewhere } = await ec2.send(
      new CreateSecurityGroupCommand({ GroupName: "web", Description: "w" }),
    );
    const [byId] = await launch(ec2, 1, { SubnetId: subnet, SecurityGroupIds: [web ?? ""] });
    const [byName] = await launch(ec2, 1, { SubnetId: subnet, SecurityGroups: ["web"] });
    const [byInterface] = await launch(ec2, 1, {
      NetworkInterfaces: [
        { DeviceIndex: 0, SubnetId: subnet, Groups: [web ?? ""], AssociatePublicIpAddress: false },
      ],
    });
    const [inDefault] = await launch(ec2, 1, { SubnetId: subnet });
    const found = instancesOf(
      (
        await ec2.send(
          new DescribeInstancesCommand({ InstanceIds: [byId, byName, byInterface, inDefault] as string[] }),
        )
      ).Reservations,
    );
    const groupsOf = (id: string | undefined) => found.find((i) => i.InstanceId === id)?.SecurityGroups;
    for (const id of [byId, byName, byInterface])
      expect(groupsOf(id)).toEqual([{ GroupId: web, GroupName: "web" }]);
    expect(groupsOf(inDefault)?.map((g) => g.GroupName)).toEqual(["default"]);
    const interfaces = found.find((i) => i.InstanceId === byId)?.NetworkInterfaces;
    expect(interfaces).toMatchObject([
      { SubnetId: subnet, VpcId: vpc, Attachment: { DeviceIndex: 0 }, Groups: [{ GroupId: web }] },
    ]);
    const filtered = instancesOf(
      (
        await ec2.send(
          new DescribeInstancesCommand({ Filters: [{ Name: "instance.group-id", Values: [web ?? ""] }] }),
        )
      ).Reservations,
    );
    expect(filtered.map((i) => i.InstanceId).sort()).toEqual([byId, byName, byInterface].sort());

    const run = (input: object) =>
      ec2.send(
        new RunInstancesCommand({
          ImageId: DEFAULT_AMI,
          MinCount: 1,
          MaxCount: 1,
          SubnetId: subnet,
          ...input,
        }),
      );
    await expectEc2Error(run({ SecurityGroupIds: ["sg-0123456789abcdef0"] }), "InvalidGroup.NotFound");
    await expectEc2Error(run({ SecurityGroups: ["nope"] }), "InvalidGroup.NotFound");
    await expectEc2Error(run({ SecurityGroupIds: ["sg-x"] }), "InvalidGroupId.Malformed");
    await expectEc2Error(run({ SecurityGroupIds: [elsewhere] }), "InvalidParameter");
    await expectEc2Error(run({ SubnetId: "subnet-0123456789abcdef0" }), "InvalidSubnetID.NotFound");

    // In use by a live instance, a group stays; once they are gone it can go.
    await expectEc2Error(ec2.send(new DeleteSecurityGroupCommand({ GroupId: web })), "DependencyViolation");
    await expectEc2Error(ec2.send(new DeleteVpcCommand({ VpcId: vpc })), "DependencyViolation");
    const all = [byId, byName, byInterface, inDefault] as string[];
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: all }));
    await waitUntilInstanceTerminated(waiterOf(ec2), { InstanceIds: all });
    await ec2.send(new DeleteSecurityGroupCommand({ GroupId: web }));
    await expectEc2Error(
      ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [web ?? ""] })),
      "InvalidGroup.NotFound",
    );
  });

  it("refuses deleting a group another group's rule names", async () => {
    const { ec2 } = await ec2Tenant(s.stack.url, "referenced");
    const { GroupId: app } = await ec2.send(
      new CreateSecurityGroupCommand({ GroupName: "app", Description: "a" }),
    );
    const { GroupId: db } = await ec2.send(
      new CreateSecurityGroupCommand({ GroupName: "db", Description: "d" }),
    );
    await ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: db,
        IpPermissions: [
          { IpProtocol: "tcp", FromPort: 5432, ToPort: 5432, UserIdGroupPairs: [{ GroupId: app }] },
        ],
      }),
    );
    await expectEc2Error(ec2.send(new DeleteSecurityGroupCommand({ GroupId: app })), "DependencyViolation");
    await ec2.send(new DeleteSecurityGroupCommand({ GroupId: db }));
    await ec2.send(new DeleteSecurityGroupCommand({ GroupName: "app" }));
  });

  it("keeps each tenant's groups its own", async () => {
    const mine = await ec2Tenant(s.stack.url, "sg-owner");
    const theirs = await ec2Tenant(s.stack.url, "sg-other");
    const { GroupId: id } = await mine.ec2.send(
      new CreateSecurityGroupCommand({ GroupName: "private", Description: "p" }),
    );
    await expectEc2Error(
      theirs.ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [id ?? ""] })),
      "InvalidGroup.NotFound",
    );
    await expectEc2Error(
      theirs.ec2.send(new DeleteSecurityGroupCommand({ GroupId: id })),
      "InvalidGroup.NotFound",
    );
    await expectEc2Error(
      theirs.ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: id, IpPermissions: [ssh] })),
      "InvalidGroup.NotFound",
    );
    const visible = (await theirs.ec2.send(new DescribeSecurityGroupsCommand({}))).SecurityGroups ?? [];
    expect(visible.map((g) => g.GroupName)).toEqual(["default"]);
    // The same name in the same VPC is each tenant's own.
    await theirs.ec2.send(new CreateSecurityGroupCommand({ GroupName: "private", Description: "p" }));
  });
});
