import {
  AttachVolumeCommand,
  CreateVolumeCommand,
  DescribeInstanceAttributeCommand,
  DescribeInstanceCreditSpecificationsCommand,
  DescribeInstancesCommand,
  type EC2Client,
  ModifyInstanceAttributeCommand,
  StopInstancesCommand,
  TerminateInstancesCommand,
  waitUntilInstanceRunning,
  waitUntilInstanceStopped,
  waitUntilInstanceTerminated,
  waitUntilVolumeAvailable,
  waitUntilVolumeDeleted,
  waitUntilVolumeInUse,
} from "@aws-sdk/client-ec2";
import { describe, expect, it } from "vitest";
import { ec2Env, ec2Tenant, expectEc2Error, instancesOf, launch, waiterOf } from "./ec2-helpers.ts";
import { useStack } from "./harness.ts";

const attribute = (ec2: EC2Client, InstanceId: string, Attribute: string) =>
  ec2.send(new DescribeInstanceAttributeCommand({ InstanceId, Attribute: Attribute as never }));

const userData = Buffer.from("#!/bin/sh\necho hello\n").toString("base64");

describe("EC2 instance attributes through the AWS SDK", () => {
  const s = useStack({
    env: {
      ...ec2Env,
      VOLUME_CREATE_DELAY: "300ms",
      VOLUME_ATTACH_DELAY: "300ms",
      VOLUME_DELETE_DELAY: "300ms",
    },
  });

  it("launches with UserData, protections and a shutdown behavior, and describes every attribute", async () => {
    const { ec2 } = await ec2Tenant(s.stack.url, "attr-launch");
    const [id] = (await launch(ec2, 1, {
      UserData: userData,
      DisableApiTermination: true,
      DisableApiStop: true,
      InstanceInitiatedShutdownBehavior: "terminate",
    })) as [string];
    expect((await attribute(ec2, id, "userData")).UserData).toEqual({ Value: userData });
    expect((await attribute(ec2, id, "disableApiTermination")).DisableApiTermination).toEqual({
      Value: true,
    });
    expect((await attribute(ec2, id, "disableApiStop")).DisableApiStop).toEqual({ Value: true });
    expect(
      (await attribute(ec2, id, "instanceInitiatedShutdownBehavior")).InstanceInitiatedShutdownBehavior,
    ).toEqual({
      Value: "terminate",
    });
    expect((await attribute(ec2, id, "instanceType")).InstanceType).toEqual({ Value: "t2.nano" });
    expect((await attribute(ec2, id, "rootDeviceName")).RootDeviceName).toEqual({ Value: "/dev/xvda" });
    expect((await attribute(ec2, id, "sourceDestCheck")).SourceDestCheck).toEqual({ Value: true });
    expect((await attribute(ec2, id, "ebsOptimized")).EbsOptimized).toEqual({ Value: false });
    expect((await attribute(ec2, id, "enaSupport")).EnaSupport).toEqual({ Value: true });
    expect((await attribute(ec2, id, "productCodes")).ProductCodes).toEqual([]);
    expect((await attribute(ec2, id, "groupSet")).Groups).toEqual([]);
    expect((await attribute(ec2, id, "kernel")).KernelId).toEqual({});
    expect((await attribute(ec2, id, "ramdisk")).RamdiskId).toEqual({});
    expect((await attribute(ec2, id, "sriovNetSupport")).SriovNetSupport).toEqual({});
    await waitUntilInstanceRunning(waiterOf(ec2), { InstanceIds: [id] });
    const mapping = (await attribute(ec2, id, "blockDeviceMapping")).BlockDeviceMappings;
    expect(mapping).toEqual([
      {
        DeviceName: "/dev/xvda",
        Ebs: expect.objectContaining({ Status: "attached", DeleteOnTermination: true }),
      },
    ]);
    const [plain] = (await launch(ec2, 1)) as [string];
    expect((await attribute(ec2, plain, "userData")).UserData).toEqual({});
    await expectEc2Error(attribute(ec2, id, "colour"), "InvalidParameterValue");
    await expectEc2Error(attribute(ec2, "i-0123456789abcdef0", "userData"), "InvalidInstanceID.NotFound");
  });

  it("keeps a protected instance from being terminated or stopped until the attribute is modified", async () => {
    const { ec2 } = await ec2Tenant(s.stack.url, "attr-protect");
    const [id] = (await launch(ec2, 1, { DisableApiTermination: true })) as [string];
    await waitUntilInstanceRunning(waiterOf(ec2), { InstanceIds: [id] });
    const refused = await expectEc2Error(
      ec2.send(new TerminateInstancesCommand({ InstanceIds: [id] })),
      "OperationNotPermitted",
    );
    expect(refused.message).toContain("disableApiTermination");
    await ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: id, DisableApiStop: { Value: true } }));
    await expectEc2Error(ec2.send(new StopInstancesCommand({ InstanceIds: [id] })), "OperationNotPermitted");
    // The Attribute/Value form, as botocore's modify_instance_attribute(Attribute=…, Value=…) sends it.
    await ec2.send(
      new ModifyInstanceAttributeCommand({ InstanceId: id, Attribute: "disableApiStop", Value: "false" }),
    );
    await ec2.send(new StopInstancesCommand({ InstanceIds: [id] }));
    await waitUntilInstanceStopped(waiterOf(ec2), { InstanceIds: [id] });
    await ec2.send(
      new ModifyInstanceAttributeCommand({ InstanceId: id, DisableApiTermination: { Value: false } }),
    );
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
    await waitUntilInstanceTerminated(waiterOf(ec2), { InstanceIds: [id] });
  });

  it("modifies one attribute a call: userData, instanceType and ebsOptimized only while stopped", async () => {
    const { ec2 } = await ec2Tenant(s.stack.url, "attr-modify");
    const [id] = (await launch(ec2, 1)) as [string];
    await waitUntilInstanceRunning(waiterOf(ec2), { InstanceIds: [id] });
    await ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: id, SourceDestCheck: { Value: false } }));
    await ec2.send(
      new ModifyInstanceAttributeCommand({
        InstanceId: id,
        InstanceInitiatedShutdownBehavior: { Value: "terminate" },
      }),
    );
    const [shown] = instancesOf(
      (await ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }))).Reservations,
    );
    expect(shown?.SourceDestCheck).toBe(false);
    expect(
      (await attribute(ec2, id, "instanceInitiatedShutdownBehavior")).InstanceInitiatedShutdownBehavior,
    ).toEqual({
      Value: "terminate",
    });
    const modify = (
      input: Omit<ConstructorParameters<typeof ModifyInstanceAttributeCommand>[0], "InstanceId">,
    ) => ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: id, ...input }));
    await expectEc2Error(
      modify({ UserData: { Value: new TextEncoder().encode("x") } }),
      "IncorrectInstanceState",
    );
    await expectEc2Error(modify({ EbsOptimized: { Value: true } }), "IncorrectInstanceState");
    await expectEc2Error(modify({ InstanceType: { Value: "t2.small" } }), "IncorrectInstanceState");
    await expectEc2Error(
      modify({ SourceDestCheck: { Value: true }, DisableApiStop: { Value: true } }),
      "InvalidParameterCombination",
    );
    await expectEc2Error(
      modify({ InstanceInitiatedShutdownBehavior: { Value: "hibernate" } }),
      "InvalidParameterValue",
    );
    await expectEc2Error(modify({ Kernel: { Value: "aki-12345678" } }), "InvalidParameterValue");

    await ec2.send(new StopInstancesCommand({ InstanceIds: [id] }));
    await waitUntilInstanceStopped(waiterOf(ec2), { InstanceIds: [id] });
    await modify({ UserData: { Value: new TextEncoder().encode("#!/bin/sh\n") } });
    expect((await attribute(ec2, id, "userData")).UserData).toEqual({
      Value: Buffer.from("#!/bin/sh\n").toString("base64"),
    });
    await modify({ EbsOptimized: { Value: true } });
    await modify({ InstanceType: { Value: "t2.small" } });
    expect((await attribute(ec2, id, "ebsOptimized")).EbsOptimized).toEqual({ Value: true });
    expect((await attribute(ec2, id, "instanceType")).InstanceType).toEqual({ Value: "t2.small" });
  });

  it("sets DeleteOnTermination of an attached volume through BlockDeviceMapping, as Ansible's ec2_vol does", async () => {
    const { ec2 } = await ec2Tenant(s.stack.url, "attr-dot");
    const [id] = (await launch(ec2, 1)) as [string];
    await waitUntilInstanceRunning(waiterOf(ec2), { InstanceIds: [id] });
    const volume = await ec2.send(new CreateVolumeCommand({ AvailabilityZone: "us-east-1a", Size: 5 }));
    const volumeId = volume.VolumeId ?? "";
    await waitUntilVolumeAvailable(waiterOf(ec2), { VolumeIds: [volumeId] });
    await ec2.send(new AttachVolumeCommand({ VolumeId: volumeId, InstanceId: id, Device: "/dev/sdf" }));
    await waitUntilVolumeInUse(waiterOf(ec2), { VolumeIds: [volumeId] });
    await ec2.send(
      new ModifyInstanceAttributeCommand({
        InstanceId: id,
        BlockDeviceMappings: [{ DeviceName: "/dev/sdf", Ebs: { DeleteOnTermination: true } }],
      }),
    );
    const mapping = (await attribute(ec2, id, "blockDeviceMapping")).BlockDeviceMappings ?? [];
    expect(mapping.find((m) => m.DeviceName === "/dev/sdf")?.Ebs?.DeleteOnTermination).toBe(true);
    await expectEc2Error(
      ec2.send(
        new ModifyInstanceAttributeCommand({
          InstanceId: id,
          BlockDeviceMappings: [{ DeviceName: "/dev/sdz", Ebs: { DeleteOnTermination: true } }],
        }),
      ),
      "InvalidParameterValue",
    );
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
    await waitUntilVolumeDeleted(waiterOf(ec2), { VolumeIds: [volumeId] });
  });

  it("answers the credit specification of burstable instances", async () => {
    const { ec2 } = await ec2Tenant(s.stack.url, "attr-credits");
    const [t2] = (await launch(ec2, 1, { type: "t2.micro" })) as [string];
    const [m5] = (await launch(ec2, 1, { type: "m5.large" })) as [string];
    const specs = await ec2.send(new DescribeInstanceCreditSpecificationsCommand({ InstanceIds: [t2, m5] }));
    expect(
      Object.fromEntries((specs.InstanceCreditSpecifications ?? []).map((c) => [c.InstanceId, c.CpuCredits])),
    ).toEqual({ [t2]: "standard", [m5]: "standard" });
    await expectEc2Error(
      ec2.send(new DescribeInstanceCreditSpecificationsCommand({ InstanceIds: ["i-0123456789abcdef0"] })),
      "InvalidInstanceID.NotFound",
    );
  });
});
