import {
  CreateTagsCommand,
  DeleteTagsCommand,
  DescribeAvailabilityZonesCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  DescribeInstanceTypesCommand,
  DescribeRegionsCommand,
  type EC2Client,
  GetConsoleOutputCommand,
  RunInstancesCommand,
  waitUntilInstanceRunning,
} from "@aws-sdk/client-ec2";
import { describe, expect, it } from "vitest";
import {
  DEFAULT_AMI,
  describeIds,
  ec2Env,
  ec2Tenant,
  expectEc2Error,
  instancesOf,
  launch,
  waiterOf,
} from "./ec2-helpers.ts";
import { useStack } from "./harness.ts";

/** The tags of one instance, by key. */
async function tagsOf(client: EC2Client, id: string): Promise<Record<string, string>> {
  const described = await client.send(new DescribeInstancesCommand({ InstanceIds: [id] }));
  const [instance] = instancesOf(described.Reservations);
  return Object.fromEntries((instance?.Tags ?? []).map((t) => [t.Key, t.Value]));
}

describe("the EC2 API's tags, catalogue, console and zones", () => {
  // Two live servers a zone (every tenant's): a third launch into one is refused for capacity.
  const s = useStack({ env: { ...ec2Env, ZONE_CAPACITY: "2" } });

  it("deletes a tag by key, by key and value, and all of them, as DeleteTags defines it", async () => {
    const { ec2 } = await ec2Tenant(s.stack.url, "tags");
    const [id] = await launch(ec2, 1, { tags: { a: "1", b: "", c: "3", d: "4" } });
    const Resources = [id as string];
    await ec2.send(new DeleteTagsCommand({ Resources, Tags: [{ Key: "a" }] }));
    // With a value (even an empty one), only while the tag has that value.
    await ec2.send(
      new DeleteTagsCommand({
        Resources,
        Tags: [
          { Key: "b", Value: "" },
          { Key: "c", Value: "x" },
        ],
      }),
    );
    expect(await tagsOf(ec2, id as string)).toEqual({ c: "3", d: "4" });
    await ec2.send(
      new CreateTagsCommand({
        Resources,
        Tags: [
          { Key: "c", Value: "33" },
          { Key: "e", Value: "" },
        ],
      }),
    );
    expect(await tagsOf(ec2, id as string)).toEqual({ c: "33", d: "4", e: "" });
    await ec2.send(new DeleteTagsCommand({ Resources }));
    expect(await tagsOf(ec2, id as string)).toEqual({});
    // 50 tags at most: overwriting at the limit still works, a 51st is refused and nothing changes.
    const fifty = Array.from({ length: 50 }, (_, i) => ({ Key: `k${i}`, Value: String(i) }));
    await ec2.send(new CreateTagsCommand({ Resources, Tags: fifty }));
    await ec2.send(new CreateTagsCommand({ Resources, Tags: [{ Key: "k0", Value: "again" }] }));
    await expectEc2Error(
      ec2.send(new CreateTagsCommand({ Resources, Tags: [{ Key: "k50", Value: "x" }] })),
      "TagLimitExceeded",
    );
    const tags = await tagsOf(ec2, id as string);
    expect(Object.keys(tags)).toHaveLength(50);
    expect(tags.k0).toBe("again");
  });

  it("answers the catalogue: regions, the signing region's zones, instance types and images", async () => {
    const { ec2 } = await ec2Tenant(s.stack.url, "catalogue", "eu-west-1");
    const regions = await ec2.send(new DescribeRegionsCommand({}));
    expect(regions.Regions?.map((r) => r.RegionName)).toContain("ap-southeast-1");
    const zones = await ec2.send(new DescribeAvailabilityZonesCommand({}));
    expect(zones.AvailabilityZones?.map((z) => [z.ZoneName, z.ZoneId, z.State])).toEqual([
      ["eu-west-1a", "euw1-az1", "available"],
      ["eu-west-1b", "euw1-az2", "available"],
      ["eu-west-1c", "euw1-az3", "available"],
    ]);
    const types = await ec2.send(
      new DescribeInstanceTypesCommand({ Filters: [{ Name: "vcpu-info.default-vcpus", Values: ["4"] }] }),
    );
    expect(types.InstanceTypes?.map((t) => t.InstanceType).sort()).toEqual(["m5.xlarge", "t2.xlarge"]);
    await expectEc2Error(
      ec2.send(new DescribeInstanceTypesCommand({ InstanceTypes: ["x9.huge" as never] })),
      "InvalidInstanceType",
    );
    const images = await ec2.send(
      new DescribeImagesCommand({ Filters: [{ Name: "name", Values: ["*debian*"] }] }),
    );
    expect(images.Images?.map((i) => i.ImageId)).toEqual(["ami-0d2b8e9f3a4c5b6d7"]);
    await expectEc2Error(
      ec2.send(new DescribeImagesCommand({ ImageIds: ["ami-00000000000000000"] })),
      "InvalidAMIID.NotFound",
    );
  });

  it("places instances in the zone asked for, and refuses a full zone without launching any", async () => {
    const { ec2, rest } = await ec2Tenant(s.stack.url, "zones", "us-west-2");
    const ids = await launch(ec2, 2, { Placement: { AvailabilityZone: "us-west-2b" } });
    const instances = instancesOf(
      (await ec2.send(new DescribeInstancesCommand({ InstanceIds: ids }))).Reservations,
    );
    expect(instances.map((i) => i.Placement?.AvailabilityZone)).toEqual(["us-west-2b", "us-west-2b"]);
    const err = await expectEc2Error(
      ec2.send(
        new RunInstancesCommand({
          ImageId: DEFAULT_AMI,
          MinCount: 1,
          MaxCount: 1,
          Placement: { AvailabilityZone: "us-west-2b" },
        }),
      ),
      "InsufficientInstanceCapacity",
    );
    expect(err.$metadata.httpStatusCode).toBe(500);
    expect(err.message).toContain("us-west-2b");
    expect((await describeIds(ec2)).length).toBe(2);
    // Another zone has room; a zone of another region is a bad value.
    await launch(ec2, 1, { Placement: { AvailabilityZone: "us-west-2c" } });
    await expectEc2Error(
      ec2.send(
        new RunInstancesCommand({
          ImageId: DEFAULT_AMI,
          MinCount: 1,
          MaxCount: 1,
          Placement: { AvailabilityZone: "eu-west-1a" },
        }),
      ),
      "InvalidParameterValue",
    );
    // REST provisions count against the same zones.
    const full = await rest.post("/servers", {
      region: "us-west-2",
      type: "t2.micro",
      availability_zone: "us-west-2b",
    });
    expect(full.status, JSON.stringify(full.body)).toBe(409);
    expect(full.body).toMatchObject({ code: "EXHAUSTED", reason: "capacity" });
  });

  it("gives the server's log as its console output, oldest line first", async () => {
    const { ec2 } = await ec2Tenant(s.stack.url, "console", "eu-central-1");
    const [id] = await launch(ec2, 1);
    await waitUntilInstanceRunning(waiterOf(ec2), { InstanceIds: [id as string] });
    const console = await ec2.send(new GetConsoleOutputCommand({ InstanceId: id }));
    // The JS SDK does not decode it (botocore does): base64 of the log text.
    const text = Buffer.from(console.Output ?? "", "base64").toString();
    const lines = text.trim().split("\n");
    expect(lines[0]).toMatch(/provisioning t2\.nano from ami-0c1a7f8e2d3b4a5c6 in eu-central-1a/);
    expect(text).toMatch(/provisioning finished: provisioning → running/);
    expect(console.InstanceId).toBe(id);
  });
});
