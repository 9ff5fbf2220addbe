import {
  AllocateAddressCommand,
  AssociateAddressCommand,
  DescribeAddressesCommand,
  DescribeInstancesCommand,
  DescribeNetworkInterfacesCommand,
  DisassociateAddressCommand,
  type EC2Client,
  ReleaseAddressCommand,
  TerminateInstancesCommand,
  waitUntilInstanceRunning,
} from "@aws-sdk/client-ec2";
import { describe, expect, it } from "vitest";
import { ec2Env, ec2Tenant, expectEc2Error, instancesOf, launch, waiterOf } from "./ec2-helpers.ts";
import { eventually, useStack } from "./harness.ts";

const instanceOf = async (ec2: EC2Client, id: string) =>
  instancesOf((await ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }))).Reservations)[0];

const addressOf = async (ec2: EC2Client, allocationId: string) =>
  (await ec2.send(new DescribeAddressesCommand({ AllocationIds: [allocationId] }))).Addresses?.[0];

describe("Elastic IPs and network interfaces through the AWS SDK", () => {
  const s = useStack({ env: { ...ec2Env, IPAM_PUBLIC_POOL: "198.51.100.0/29" } });

  it("allocates, associates (shown on the instance and its interface), disassociates and releases", async () => {
    const { ec2 } = await ec2Tenant(s.stack.url, "eip-life");
    const [id = ""] = await launch(ec2, 1);
    await waitUntilInstanceRunning(waiterOf(ec2), { InstanceIds: [id] });
    const allocated = await ec2.send(
      new AllocateAddressCommand({
        Domain: "vpc",
        TagSpecifications: [{ ResourceType: "elastic-ip", Tags: [{ Key: "Name", Value: "web" }] }],
      }),
    );
    const allocationId = allocated.AllocationId ?? "";
    expect(allocationId).toMatch(/^eipalloc-[0-9a-f]{17}$/);
    expect(allocated.PublicIp).toMatch(/^198\.51\.100\./);
    expect(allocated.Domain).toBe("vpc");

    const { AssociationId } = await ec2.send(
      new AssociateAddressCommand({ AllocationId: allocationId, InstanceId: id }),
    );
    expect(AssociationId).toMatch(/^eipassoc-/);
    const instance = await instanceOf(ec2, id);
    expect(instance?.PublicIpAddress).toBe(allocated.PublicIp);
    expect(instance?.PublicDnsName).toBe(
      `ec2-${allocated.PublicIp?.replaceAll(".", "-")}.compute-1.amazonaws.com`,
    );
    const eni = instance?.NetworkInterfaces?.[0];
    expect(eni?.Association?.PublicIp).toBe(allocated.PublicIp);

    expect(await addressOf(ec2, allocationId)).toMatchObject({
      AllocationId: allocationId,
      PublicIp: allocated.PublicIp,
      InstanceId: id,
      AssociationId,
      NetworkInterfaceId: eni?.NetworkInterfaceId,
      PrivateIpAddress: instance?.PrivateIpAddress,
      Tags: [{ Key: "Name", Value: "web" }],
    });
    const byFilter = async (Name: string, Values: string[]) =>
      ((await ec2.send(new DescribeAddressesCommand({ Filters: [{ Name, Values }] }))).Addresses ?? []).map(
        (a) => a.AllocationId,
      );
    for (const [name, value] of [
      ["instance-id", id],
      ["association-id", AssociationId ?? ""],
      ["public-ip", allocated.PublicIp ?? ""],
      ["private-ip-address", instance?.PrivateIpAddress ?? ""],
      ["network-interface-id", eni?.NetworkInterfaceId ?? ""],
      ["tag:Name", "web"],
      ["domain", "vpc"],
    ] as const)
      expect(await byFilter(name, [value])).toEqual([allocationId]);

    await expectEc2Error(
      ec2.send(new ReleaseAddressCommand({ AllocationId: allocationId })),
      "InvalidIPAddress.InUse",
    );
    await ec2.send(new DisassociateAddressCommand({ AssociationId }));
    expect((await instanceOf(ec2, id))?.PublicIpAddress).toBeUndefined();
    await expectEc2Error(
      ec2.send(new DisassociateAddressCommand({ AssociationId })),
      "InvalidAssociationID.NotFound",
    );
    await ec2.send(new ReleaseAddressCommand({ AllocationId: allocationId }));
    await expectEc2Error(
      ec2.send(new DescribeAddressesCommand({ AllocationIds: [allocationId] })),
      "InvalidAllocationID.NotFound",
    );
    await expectEc2Error(
      ec2.send(new ReleaseAddressCommand({ AllocationId: "eipalloc-0123456789abcdef0" })),
      "InvalidAllocationID.NotFound",
    );
  });

  it("moves an associated address only with AllowReassociation, by instance or interface id", async () => {
    const { ec2 } = await ec2Tenant(s.stack.url, "eip-move");
    const [first = "", second = ""] = await launch(ec2, 2);
    const { AllocationId } = await ec2.send(new AllocateAddressCommand({ Domain: "vpc" }));
    await ec2.send(new AssociateAddressCommand({ AllocationId, InstanceId: first }));
    await expectEc2Error(
      ec2.send(new AssociateAddressCommand({ AllocationId, InstanceId: second })),
      "Resource.AlreadyAssociated",
    );
    const eni = `eni-${second.slice(2)}`;
    await ec2.send(
      new AssociateAddressCommand({ AllocationId, NetworkInterfaceId: eni, AllowReassociation: true }),
    );
    expect(await addressOf(ec2, AllocationId ?? "")).toMatchObject({
      InstanceId: second,
      NetworkInterfaceId: eni,
    });
    expect((await instanceOf(ec2, first))?.PublicIpAddress).toBeUndefined();
    await expectEc2Error(
      ec2.send(new AssociateAddressCommand({ AllocationId, InstanceId: "i-0123456789abcdef0" })),
      "InvalidInstanceID.NotFound",
    );
    await expectEc2Error(
      ec2.send(new AssociateAddressCommand({ AllocationId, NetworkInterfaceId: "eni-0123456789abcdef0" })),
      "InvalidNetworkInterfaceID.NotFound",
    );
  });

  it("disassociates an instance's address when it is terminated", async () => {
    const { ec2 } = await ec2Tenant(s.stack.url, "eip-terminate");
    const [id = ""] = await launch(ec2, 1);
    const { AllocationId } = await ec2.send(new AllocateAddressCommand({ Domain: "vpc" }));
    await ec2.send(new AssociateAddressCommand({ AllocationId, InstanceId: id }));
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
    await eventually(async () =>
      (await addressOf(ec2, AllocationId ?? ""))?.InstanceId === undefined ? true : undefined,
    );
    await ec2.send(new ReleaseAddressCommand({ AllocationId }));
  });

  it("says when the public pool has no address left, and keeps each tenant's addresses its own", async () => {
    const mine = await ec2Tenant(s.stack.url, "eip-owner");
    const theirs = await ec2Tenant(s.stack.url, "eip-other");
    const { AllocationId, PublicIp } = await mine.ec2.send(new AllocateAddressCommand({ Domain: "vpc" }));
    await expectEc2Error(
      theirs.ec2.send(new DescribeAddressesCommand({ AllocationIds: [AllocationId ?? ""] })),
      "InvalidAllocationID.NotFound",
    );
    await expectEc2Error(
      theirs.ec2.send(new ReleaseAddressCommand({ AllocationId })),
      "InvalidAllocationID.NotFound",
    );
    await expectEc2Error(
      theirs.ec2.send(new DescribeAddressesCommand({ PublicIps: [PublicIp ?? ""] })),
      "InvalidAddress.NotFound",
    );
    expect((await theirs.ec2.send(new DescribeAddressesCommand({}))).Addresses).toEqual([]);
    // A /29 holds five public addresses; the other tests hold some of them.
    const taken: string[] = [];
    for (;;) {
      const result = await theirs.ec2
        .send(new AllocateAddressCommand({ Domain: "vpc" }))
        .catch((err: Error) => err);
      if (result instanceof Error) {
        expect(result.name).toBe("AddressLimitExceeded");
        break;
      }
      taken.push(result.AllocationId ?? "");
      expect(taken.length).toBeLessThanOrEqual(5);
    }
    for (const id of taken) await theirs.ec2.send(new ReleaseAddressCommand({ AllocationId: id }));
    await mine.ec2.send(new ReleaseAddressCommand({ AllocationId }));
  });

  it("describes instances' primary interfaces with their filters", async () => {
    const { ec2 } = await ec2Tenant(s.stack.url, "interfaces");
    const [id = ""] = await launch(ec2, 1);
    const instance = await instanceOf(ec2, id);
    const eni = `eni-${id.slice(2)}`;
    const { NetworkInterfaces } = await ec2.send(
      new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [eni] }),
    );
    expect(NetworkInterfaces).toMatchObject([
      {
        NetworkInterfaceId: eni,
        SubnetId: instance?.SubnetId,
        VpcId: instance?.VpcId,
        PrivateIpAddress: instance?.PrivateIpAddress,
        Status: "in-use",
        Attachment: { InstanceId: id, DeviceIndex: 0, Status: "attached" },
      },
    ]);
    const byFilter = async (Name: string, Values: string[]) =>
      (
        (await ec2.send(new DescribeNetworkInterfacesCommand({ Filters: [{ Name, Values }] })))
          .NetworkInterfaces ?? []
      ).map((n) => n.NetworkInterfaceId);
    expect(await byFilter("attachment.instance-id", [id])).toEqual([eni]);
    expect(await byFilter("network-interface-id", [eni])).toEqual([eni]);
    expect(await byFilter("addresses.private-ip-address", [instance?.PrivateIpAddress ?? ""])).toEqual([eni]);
    expect(await byFilter("subnet-id", [instance?.SubnetId ?? ""])).toContain(eni);
    expect(await byFilter("vpc-id", [instance?.VpcId ?? ""])).toContain(eni);
    await expectEc2Error(
      ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: ["eni-0123456789abcdef0"] })),
      "InvalidNetworkInterfaceID.NotFound",
    );
    await expectEc2Error(
      ec2.send(new DescribeNetworkInterfacesCommand({ Filters: [{ Name: "bogus", Values: ["x"] }] })),
      "InvalidParameterValue",
    );
    const other = await ec2Tenant(s.stack.url, "interfaces-other");
    await expectEc2Error(
      other.ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [eni] })),
      "InvalidNetworkInterfaceID.NotFound",
    );
  });
});
