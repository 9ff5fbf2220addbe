import {
  AttachVolumeCommand,
  CreateVolumeCommand,
  DeleteVolumeCommand,
  DescribeInstancesCommand,
  DescribeVolumesCommand,
  DetachVolumeCommand,
  type EC2Client,
  paginateDescribeVolumes,
  StopInstancesCommand,
  TerminateInstancesCommand,
  type Volume,
  waitUntilInstanceRunning,
  waitUntilInstanceStopped,
  waitUntilInstanceTerminated,
  waitUntilVolumeAvailable,
  waitUntilVolumeDeleted,
  waitUntilVolumeInUse,
} from "@aws-sdk/client-ec2";
import { describe, expect, it } from "vitest";
import { ec2Env, ec2Tenant, expectEc2Error, instancesOf, launch, waiterOf } from "./ec2-helpers.ts";
import { eventually, useStack } from "./harness.ts";

/** Volumes' timed states as short as the instances'. */
const volumeEnv = {
  ...ec2Env,
  VOLUME_CREATE_DELAY: "300ms",
  VOLUME_ATTACH_DELAY: "300ms",
  VOLUME_DETACH_DELAY: "300ms",
  VOLUME_DELETE_DELAY: "300ms",
};

async function volumeOf(ec2: EC2Client, id: string): Promise<Volume> {
  const [volume] = (await ec2.send(new DescribeVolumesCommand({ VolumeIds: [id] }))).Volumes ?? [];
  if (!volume) throw new Error(`no volume ${id}`);
  return volume;
}

async function newVolume(ec2: EC2Client, zone = "us-east-1a", size = 10) {
  const created = await ec2.send(
    new CreateVolumeCommand({ AvailabilityZone: zone, Size: size, VolumeType: "gp3" }),
  );
  const id = created.VolumeId ?? "";
  await waitUntilVolumeAvailable(waiterOf(ec2), { VolumeIds: [id] });
  return id;
}

const rootOf = async (ec2: EC2Client, instanceId: string) =>
  (
    await ec2.send(
      new DescribeVolumesCommand({ Filters: [{ Name: "attachment.instance-id", Values: [instanceId] }] }),
    )
  ).Volumes?.[0];

describe("EBS volumes through the AWS SDK", () => {
  const s = useStack({ env: volumeEnv });

  it("creates a volume that is creating for its delay, then available, as the SDK's waiter sees", async () => {
    const { ec2 } = await ec2Tenant(s.stack.url, "vol-create");
    const started = Date.now();
    const created = await ec2.send(
      new CreateVolumeCommand({
        AvailabilityZone: "us-east-1b",
        Size: 20,
        VolumeType: "gp3",
        Iops: 4000,
        Encrypted: true,
        TagSpecifications: [{ ResourceType: "volume", Tags: [{ Key: "Name", Value: "data" }] }],
      }),
    );
    expect(created).toMatchObject({
      State: "creating",
      Size: 20,
      VolumeType: "gp3",
      Iops: 4000,
      Throughput: 125,
      Encrypted: true,
      AvailabilityZone: "us-east-1b",
      MultiAttachEnabled: false,
      Tags: [{ Key: "Name", Value: "data" }],
    });
    const id = created.VolumeId ?? "";
    expect(id).toMatch(/^vol-[0-9a-f]{17}$/);
    expect(created.CreateTime).toBeInstanceOf(Date);
    await waitUntilVolumeAvailable(waiterOf(ec2), { VolumeIds: [id] });
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    expect(await volumeOf(ec2, id)).toMatchObject({ State: "available", Attachments: [] });

    const gp2 = await ec2.send(new CreateVolumeCommand({ AvailabilityZone: "us-east-1a", Size: 100 }));
    expect(gp2).toMatchObject({ VolumeType: "gp2", Iops: 300 });
    expect(gp2.Throughput).toBeUndefined();
  });

  it("refuses what EBS refuses, and what cloudsim does not model, by name", async () => {
    const { ec2 } = await ec2Tenant(s.stack.url, "vol-refuse");
    const create = (input: Partial<ConstructorParameters<typeof CreateVolumeCommand>[0]>) =>
      ec2.send(new CreateVolumeCommand({ AvailabilityZone: "us-east-1a", Size: 10, ...input }));
    await expectEc2Error(create({ AvailabilityZone: "eu-west-1a" }), "InvalidParameterValue");
    await expectEc2Error(create({ Size: 0 }), "InvalidParameterValue");
    await expectEc2Error(create({ Size: 16_385 }), "InvalidParameterValue");
    await expectEc2Error(create({ VolumeType: "io1" }), "MissingParameter");
    await expectEc2Error(create({ VolumeType: "gp2", Iops: 3000 }), "InvalidParameterCombination");
    const snapshot = await expectEc2Error(
      create({ SnapshotId: "snap-0123456789abcdef0" }),
      "InvalidParameterValue",
    );
    expect(snapshot.message).toMatch(/no snapshots/);
    await expectEc2Error(
      ec2.send(new DescribeVolumesCommand({ VolumeIds: ["vol-nope"] })),
      "InvalidVolumeID.Malformed",
    );
    const missing = await expectEc2Error(
      ec2.send(new DescribeVolumesCommand({ VolumeIds: ["vol-0123456789abcdef0"] })),
      "InvalidVolume.NotFound",
    );
    expect(missing.message).toContain("vol-0123456789abcdef0");
    await expectEc2Error(
      ec2.send(new DescribeVolumesCommand({ Filters: [{ Name: "colour", Values: ["red"] }] })),
      "InvalidParameterValue",
    );
    // Another tenant's volume is not there.
    const id = await newVolume(ec2);
    const other = await ec2Tenant(s.stack.url, "vol-other");
    await expectEc2Error(
      other.ec2.send(new DescribeVolumesCommand({ VolumeIds: [id] })),
      "InvalidVolume.NotFound",
    );
  });

  it("gives every instance its root volume, attached at /dev/xvda, from BlockDeviceMapping", async () => {
    const { ec2 } = await ec2Tenant(s.stack.url, "vol-root");
    const [plain] = await launch(ec2, 1);
    const [mapped] = await launch(ec2, 1, {
      BlockDeviceMappings: [
        { DeviceName: "/dev/xvda", Ebs: { VolumeSize: 30, VolumeType: "gp2", DeleteOnTermination: false } },
      ],
      TagSpecifications: [
        { ResourceType: "instance", Tags: [{ Key: "Name", Value: "mapped" }] },
        { ResourceType: "volume", Tags: [{ Key: "Name", Value: "mapped-root" }] },
      ],
    });
    const ids = [plain, mapped] as string[];
    await waitUntilInstanceRunning(waiterOf(ec2), { InstanceIds: ids });
    const described = instancesOf(
      (await ec2.send(new DescribeInstancesCommand({ InstanceIds: ids }))).Reservations,
    );
    for (const instance of described) {
      expect(instance.RootDeviceName).toBe("/dev/xvda");
      expect(instance.BlockDeviceMappings).toEqual([
        {
          DeviceName: "/dev/xvda",
          Ebs: expect.objectContaining({
            Status: "attached",
            VolumeId: expect.stringMatching(/^vol-/),
            DeleteOnTermination: instance.InstanceId === plain,
          }),
        },
      ]);
    }
    expect(await rootOf(ec2, plain as string)).toMatchObject({
      Size: 8,
      VolumeType: "gp3",
      State: "in-use",
      AvailabilityZone: "us-east-1a",
      Attachments: [
        expect.objectContaining({
          InstanceId: plain,
          Device: "/dev/xvda",
          State: "attached",
          DeleteOnTermination: true,
        }),
      ],
    });
    expect(await rootOf(ec2, mapped as string)).toMatchObject({
      Size: 30,
      VolumeType: "gp2",
      Tags: [{ Key: "Name", Value: "mapped-root" }],
    });
    await expectEc2Error(
      launch(ec2, 1, { BlockDeviceMappings: [{ DeviceName: "/dev/sdb", Ebs: { VolumeSize: 10 } }] }),
      "InvalidParameterValue",
    );
  });

  it("attaches and detaches a volume through its timed states, and refuses what EC2 refuses", async () => {
    const { ec2 } = await ec2Tenant(s.stack.url, "vol-attach");
    const [instance] = (await launch(ec2, 1)) as [string];
    const [elsewhere] = (await launch(ec2, 1, { Placement: { AvailabilityZone: "us-east-1c" } })) as [string];
    await waitUntilInstanceRunning(waiterOf(ec2), { InstanceIds: [instance, elsewhere] });
    const id = await newVolume(ec2);
    const spare = await newVolume(ec2);

    const attached = await ec2.send(
      new AttachVolumeCommand({ VolumeId: id, InstanceId: instance, Device: "/dev/sdf" }),
    );
    expect(attached).toMatchObject({
      VolumeId: id,
      InstanceId: instance,
      Device: "/dev/sdf",
      State: "attaching",
    });
    await waitUntilVolumeInUse(waiterOf(ec2), { VolumeIds: [id] });
    await eventually(async () =>
      (await volumeOf(ec2, id)).Attachments?.[0]?.State === "attached" ? true : undefined,
    );
    const inUse = await ec2.send(
      new DescribeVolumesCommand({
        Filters: [
          { Name: "attachment.device", Values: ["/dev/sdf"] },
          { Name: "attachment.status", Values: ["attached"] },
          { Name: "status", Values: ["in-use"] },
        ],
      }),
    );
    expect(inUse.Volumes?.map((v) => v.VolumeId)).toEqual([id]);
    const [shown] = instancesOf(
      (await ec2.send(new DescribeInstancesCommand({ InstanceIds: [instance] }))).Reservations,
    );
    expect(shown?.BlockDeviceMappings?.map((m) => m.DeviceName)).toEqual(["/dev/xvda", "/dev/sdf"]);

    await expectEc2Error(
      ec2.send(new AttachVolumeCommand({ VolumeId: id, InstanceId: instance, Device: "/dev/sdg" })),
      "VolumeInUse",
    );
    const taken = await expectEc2Error(
      ec2.send(new AttachVolumeCommand({ VolumeId: spare, InstanceId: instance, Device: "/dev/sdf" })),
      "InvalidParameterValue",
    );
    expect(taken.message).toMatch(/already in use/);
    await expectEc2Error(
      ec2.send(new AttachVolumeCommand({ VolumeId: spare, InstanceId: elsewhere, Device: "/dev/sdf" })),
      "InvalidVolume.ZoneMismatch",
    );
    await expectEc2Error(
      ec2.send(new AttachVolumeCommand({ VolumeId: spare, InstanceId: instance, Device: "sdf" })),
      "InvalidParameterValue",
    );
    await expectEc2Error(
      ec2.send(
        new AttachVolumeCommand({ VolumeId: spare, InstanceId: "i-0123456789abcdef0", Device: "/dev/sdg" }),
      ),
      "InvalidInstanceID.NotFound",
    );
    await expectEc2Error(ec2.send(new DeleteVolumeCommand({ VolumeId: id })), "VolumeInUse");
    await expectEc2Error(
      ec2.send(new DetachVolumeCommand({ VolumeId: id, InstanceId: elsewhere })),
      "InvalidAttachment.NotFound",
    );
    const root = (await rootOf(ec2, instance))?.VolumeId ?? "";
    await expectEc2Error(ec2.send(new DetachVolumeCommand({ VolumeId: root })), "IncorrectInstanceState");

    const detaching = await ec2.send(new DetachVolumeCommand({ VolumeId: id, InstanceId: instance }));
    expect(detaching).toMatchObject({ VolumeId: id, InstanceId: instance, State: "detaching" });
    expect((await volumeOf(ec2, id)).State).toBe("in-use");
    await waitUntilVolumeAvailable(waiterOf(ec2), { VolumeIds: [id] });
    expect((await volumeOf(ec2, id)).Attachments).toEqual([]);
    await expectEc2Error(ec2.send(new DetachVolumeCommand({ VolumeId: id })), "IncorrectState");

    // A stopped instance takes volumes too.
    await ec2.send(new StopInstancesCommand({ InstanceIds: [instance] }));
    await waitUntilInstanceStopped(waiterOf(ec2), { InstanceIds: [instance] });
    await ec2.send(new AttachVolumeCommand({ VolumeId: spare, InstanceId: instance, Device: "/dev/sdh" }));
    await waitUntilVolumeInUse(waiterOf(ec2), { VolumeIds: [spare] });
  });

  it("deletes a volume: deleting, then gone, as the SDK's waiter sees", async () => {
    const { ec2 } = await ec2Tenant(s.stack.url, "vol-delete");
    const id = await newVolume(ec2);
    await ec2.send(new DeleteVolumeCommand({ VolumeId: id }));
    expect((await volumeOf(ec2, id)).State).toBe("deleting");
    // Deleting again changes nothing.
    await ec2.send(new DeleteVolumeCommand({ VolumeId: id }));
    await waitUntilVolumeDeleted(waiterOf(ec2), { VolumeIds: [id] });
    await expectEc2Error(ec2.send(new DescribeVolumesCommand({ VolumeIds: [id] })), "InvalidVolume.NotFound");
    expect((await ec2.send(new DescribeVolumesCommand({}))).Volumes).toEqual([]);
  });

  it("on terminate deletes the volumes with DeleteOnTermination and detaches the others", async () => {
    const { ec2 } = await ec2Tenant(s.stack.url, "vol-terminate");
    const [instance] = (await launch(ec2, 1)) as [string];
    await waitUntilInstanceRunning(waiterOf(ec2), { InstanceIds: [instance] });
    const root = (await rootOf(ec2, instance))?.VolumeId ?? "";
    const data = await newVolume(ec2);
    await ec2.send(new AttachVolumeCommand({ VolumeId: data, InstanceId: instance, Device: "/dev/sdf" }));
    await waitUntilVolumeInUse(waiterOf(ec2), { VolumeIds: [data] });

    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [instance] }));
    await waitUntilInstanceTerminated(waiterOf(ec2), { InstanceIds: [instance] });
    await waitUntilVolumeDeleted(waiterOf(ec2), { VolumeIds: [root] });
    await waitUntilVolumeAvailable(waiterOf(ec2), { VolumeIds: [data] });
    expect((await volumeOf(ec2, data)).Attachments).toEqual([]);
    const [gone] = instancesOf(
      (await ec2.send(new DescribeInstancesCommand({ InstanceIds: [instance] }))).Reservations,
    );
    expect(gone?.BlockDeviceMappings).toEqual([]);
  });

  it("pages DescribeVolumes through the SDK's paginator and filters by size, type and tags", async () => {
    const { ec2 } = await ec2Tenant(s.stack.url, "vol-pages", "eu-west-1");
    const made: string[] = [];
    for (let i = 0; i < 7; i++) {
      const created = await ec2.send(
        new CreateVolumeCommand({
          AvailabilityZone: "eu-west-1a",
          Size: 10 + i,
          VolumeType: i % 2 ? "gp2" : "gp3",
          TagSpecifications: [{ ResourceType: "volume", Tags: [{ Key: "batch", Value: i < 3 ? "a" : "b" }] }],
        }),
      );
      made.push(created.VolumeId ?? "");
    }
    const pages: string[][] = [];
    for await (const page of paginateDescribeVolumes({ client: ec2, pageSize: 5 }, {}))
      pages.push((page.Volumes ?? []).map((v) => v.VolumeId ?? ""));
    expect(pages.map((p) => p.length)).toEqual([5, 2]);
    expect(pages.flat()).toEqual(made);
    const ids = async (Filters: { Name: string; Values: string[] }[]) =>
      ((await ec2.send(new DescribeVolumesCommand({ Filters }))).Volumes ?? []).map((v) => v.VolumeId);
    expect(await ids([{ Name: "size", Values: ["10", "16"] }])).toEqual([made[0], made[6]]);
    expect(await ids([{ Name: "volume-type", Values: ["gp2"] }])).toEqual([made[1], made[3], made[5]]);
    expect(
      await ids([
        { Name: "tag:batch", Values: ["a"] },
        { Name: "volume-type", Values: ["gp3"] },
      ]),
    ).toEqual([made[0], made[2]]);
    expect(await ids([{ Name: "availability-zone", Values: ["eu-west-1b"] }])).toEqual([]);
    await expectEc2Error(
      ec2.send(new DescribeVolumesCommand({ VolumeIds: [made[0] ?? ""], MaxResults: 5 })),
      "InvalidParameterCombination",
    );
  });
});
