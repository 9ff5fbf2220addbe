import { randomUUID } from "node:crypto";
import {
  CreateTagsCommand,
  DescribeInstancesCommand,
  type Filter,
  ModifyInstanceAttributeCommand,
  paginateDescribeInstances,
  paginateDescribeTags,
  RebootInstancesCommand,
  type Reservation,
  RunInstancesCommand,
  type RunInstancesCommandInput,
  StartInstancesCommand,
  StopInstancesCommand,
  type Tag,
  TerminateInstancesCommand,
  waitUntilInstanceExists,
  waitUntilInstanceRunning,
  waitUntilInstanceStatusOk,
  waitUntilInstanceStopped,
  waitUntilInstanceTerminated,
} from "@aws-sdk/client-ec2";
import { describe, expect, it } from "vitest";
import {
  DEFAULT_AMI,
  describeIds,
  ec2Env,
  ec2Tenant,
  expectEc2Error,
  idsOf,
  instancesOf,
  launch,
  OTHER_AMI,
  restServer,
  waiterOf,
} from "./ec2-helpers.ts";
import { eventually, useStack } from "./harness.ts";
import type { Keyed } from "./tenancy-helpers.ts";

const state = (Code: number, Name: string) => ({ Code, Name });

/** The states a server went through, oldest first, from its REST log. */
async function statesOf(rest: Keyed, serverId: string): Promise<string[]> {
  const res = await rest.get(`/servers/${serverId}/logs?limit=100`);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return (res.body.items as { type: string; to_state: string }[])
    .filter((e) => e.type === "state.changed")
    .map((e) => e.to_state)
    .reverse();
}

describe("the EC2 API through the AWS SDK", () => {
  const s = useStack({ env: ec2Env });

  it("runs an instance through its whole life, by the SDK's waiters, and REST sees each change", async () => {
    const { ec2, rest } = await ec2Tenant(s.stack.url, "life");
    const waiter = waiterOf(ec2);
    const token = randomUUID();
    const run = await ec2.send(
      new RunInstancesCommand({
        ImageId: OTHER_AMI,
        InstanceType: "t2.nano",
        MinCount: 1,
        MaxCount: 1,
        ClientToken: token,
        TagSpecifications: [
          {
            ResourceType: "instance",
            Tags: [
              { Key: "Name", Value: "life" },
              { Key: "team", Value: "sim" },
            ],
          },
        ],
      }),
    );
    expect(run.ReservationId).toMatch(/^r-[0-9a-f]{17}$/);
    expect(run.Instances).toHaveLength(1);
    const launched = run.Instances?.[0];
    expect(launched).toMatchObject({
      ImageId: OTHER_AMI,
      InstanceType: "t2.nano",
      ClientToken: token,
      AmiLaunchIndex: 0,
      State: state(0, "pending"),
    });
    expect(launched?.Tags).toEqual(
      expect.arrayContaining([
        { Key: "Name", Value: "life" },
        { Key: "team", Value: "sim" },
      ]),
    );
    const id = launched?.InstanceId ?? "";
    expect(id).toMatch(/^i-[0-9a-f]{17}$/);
    const ids = { InstanceIds: [id] };

    await waitUntilInstanceExists(waiter, ids);
    await waitUntilInstanceRunning(waiter, ids);
    await waitUntilInstanceStatusOk(waiter, ids);
    const running = instancesOf((await ec2.send(new DescribeInstancesCommand(ids))).Reservations)[0];
    const server = await restServer(rest, id);
    expect(server).toMatchObject({
      instance_id: id,
      reservation_id: run.ReservationId,
      image: OTHER_AMI,
      type: "t2.nano",
      state: "running",
      availability_zone: running?.Placement?.AvailabilityZone,
      tags: { Name: "life", team: "sim" },
    });

    const stop = await ec2.send(new StopInstancesCommand(ids));
    expect(stop.StoppingInstances).toEqual([
      { InstanceId: id, PreviousState: state(16, "running"), CurrentState: state(64, "stopping") },
    ]);
    await waitUntilInstanceStopped(waiter, ids);
    await ec2.send(
      new ModifyInstanceAttributeCommand({ InstanceId: id, InstanceType: { Value: "t2.small" } }),
    );
    expect(await restServer(rest, id)).toMatchObject({ type: "t2.small", state: "stopped" });

    const start = await ec2.send(new StartInstancesCommand(ids));
    expect(start.StartingInstances).toEqual([
      { InstanceId: id, PreviousState: state(80, "stopped"), CurrentState: state(0, "pending") },
    ]);
    await waitUntilInstanceRunning(waiter, ids);
    await ec2.send(new RebootInstancesCommand(ids));
    // EC2 shows a reboot as running: only REST tells when it is over.
    await eventually(async () => ((await restServer(rest, id)).state === "running" ? true : undefined));
    await waitUntilInstanceRunning(waiter, ids);

    const terminate = await ec2.send(new TerminateInstancesCommand(ids));
    expect(terminate.TerminatingInstances).toEqual([
      { InstanceId: id, PreviousState: state(16, "running"), CurrentState: state(32, "shutting-down") },
    ]);
    await waitUntilInstanceTerminated(waiter, ids);
    const [gone] = instancesOf((await ec2.send(new DescribeInstancesCommand(ids))).Reservations);
    expect(gone).toMatchObject({ InstanceType: "t2.small", State: state(48, "terminated") });
    expect(await restServer(rest, id)).toMatchObject({ type: "t2.small", state: "terminated" });
    expect(await statesOf(rest, server.id)).toEqual([
      "provisioning",
      "running",
      "stopping",
      "stopped",
      "starting",
      "running",
      "rebooting",
      "running",
      "terminating",
      "terminated",
    ]);
  });

  it("shows a REST-made server in DescribeInstances and an EC2-made instance in GET /servers", async () => {
    const { ec2, rest } = await ec2Tenant(s.stack.url, "both");
    const created = await rest.post("/servers", {
      region: "us-east-1",
      type: "t2.micro",
      tags: { Name: "from-rest" },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const elsewhere = await rest.post("/servers", { region: "eu-west-1", type: "t2.micro" });
    expect(elsewhere.status, JSON.stringify(elsewhere.body)).toBe(201);

    const described = await ec2.send(new DescribeInstancesCommand({}));
    expect(described.Reservations).toHaveLength(1);
    expect(described.Reservations?.[0]?.ReservationId).toBe(created.body.reservation_id);
    expect(instancesOf(described.Reservations)).toEqual([
      expect.objectContaining({
        InstanceId: created.body.instance_id,
        InstanceType: "t2.micro",
        ImageId: created.body.image,
        PrivateIpAddress: created.body.ip_address,
        Placement: expect.objectContaining({ AvailabilityZone: created.body.availability_zone }),
        Tags: [{ Key: "Name", Value: "from-rest" }],
      }),
    ]);

    const [launched] = await launch(ec2, 1, { tags: { Name: "from-ec2" } });
    const listed = await rest.get("/servers?region=us-east-1&limit=100");
    expect(listed.status, JSON.stringify(listed.body)).toBe(200);
    const byInstance = new Map(
      listed.body.items.map((item: { instance_id: string }) => [item.instance_id, item]),
    );
    expect([...byInstance.keys()].sort()).toEqual([created.body.instance_id, launched].sort());
    expect(byInstance.get(launched)).toMatchObject({
      image: DEFAULT_AMI,
      type: "t2.nano",
      tags: { Name: "from-ec2" },
    });
  });

  it("pages DescribeInstances and DescribeTags through the SDK's paginators, each item once", async () => {
    const { ec2 } = await ec2Tenant(s.stack.url, "pages", "us-west-2");
    const launched = [
      ...(await launch(ec2, 7, { tags: { batch: "seven", env: "test" } })),
      ...(await launch(ec2, 1, { tags: { batch: "one" } })),
      ...(await launch(ec2, 1, { tags: { batch: "two" } })),
      ...(await launch(ec2, 3, { tags: { batch: "three", env: "prod" } })),
    ];
    expect(launched).toHaveLength(12);

    const pages: Reservation[][] = [];
    for await (const page of paginateDescribeInstances({ client: ec2, pageSize: 5 }, {})) {
      pages.push(page.Reservations ?? []);
    }
    // A page holds 5 instances, and then the rest of its last reservation: none is split.
    for (const page of pages) {
      expect(instancesOf(page.slice(0, -1)).length).toBeLessThan(5);
    }
    const reservationIds = pages.flat().map((r) => r.ReservationId);
    expect(new Set(reservationIds).size).toBe(4);
    expect(reservationIds).toHaveLength(4);
    expect(pages.length).toBeGreaterThanOrEqual(2);
    expect(idsOf(instancesOf(pages.flat()))).toEqual([...launched].sort());

    const tagPages: string[][] = [];
    for await (const page of paginateDescribeTags({ client: ec2, pageSize: 5 }, {})) {
      tagPages.push((page.Tags ?? []).map((t) => `${t.ResourceId} ${t.Key}=${t.Value}`));
    }
    for (const page of tagPages) expect(page.length).toBeLessThanOrEqual(5);
    // 7 + 3 instances carry two tags each, the two single launches one.
    expect(tagPages.flat()).toHaveLength(22);
    expect(new Set(tagPages.flat()).size).toBe(22);
    expect(tagPages.length).toBeGreaterThanOrEqual(5);
  });

  it("filters by tag wildcards, state and type: AND across filters, OR within one", async () => {
    const { ec2 } = await ec2Tenant(s.stack.url, "filters", "eu-west-1");
    const [web1] = await launch(ec2, 1, { tags: { Name: "web-1" } });
    const [web12] = await launch(ec2, 1, { tags: { Name: "web-12" }, type: "t2.micro" });
    const [web] = await launch(ec2, 1, { tags: { Name: "web-" } });
    const [db1] = await launch(ec2, 1, { tags: { Name: "db-1" }, type: "t2.micro" });
    const all = [web1, web12, web, db1] as string[];
    await waitUntilInstanceRunning(waiterOf(ec2), { InstanceIds: all });
    await ec2.send(new StopInstancesCommand({ InstanceIds: [db1 as string] }));
    await waitUntilInstanceStopped(waiterOf(ec2), { InstanceIds: [db1 as string] });

    const sorted = (...ids: (string | undefined)[]) => (ids as string[]).sort();
    const filtered = (...Filters: Filter[]) => describeIds(ec2, { Filters });
    const name = (...Values: string[]) => ({ Name: "tag:Name", Values });
    expect(await filtered(name("web-*"))).toEqual(sorted(web1, web12, web));
    // `?` is zero or one character.
    expect(await filtered(name("web-?"))).toEqual(sorted(web1, web));
    expect(await filtered(name("web-1"))).toEqual(sorted(web1));
    expect(await filtered(name("db-1", "web-12"))).toEqual(sorted(web12, db1));
    expect(await filtered({ Name: "instance-type", Values: ["t2.micro"] })).toEqual(sorted(web12, db1));
    expect(await filtered({ Name: "instance-state-name", Values: ["stopped"] })).toEqual(sorted(db1));
    expect(await filtered(name("web-*"), { Name: "instance-type", Values: ["t2.micro"] })).toEqual(
      sorted(web12),
    );
    expect(
      await filtered(
        { Name: "instance-type", Values: ["t2.micro", "t2.nano"] },
        { Name: "instance-state-name", Values: ["running"] },
      ),
    ).toEqual(sorted(web1, web12, web));
    expect(await filtered(name("nothing-*"))).toEqual([]);
    await expectEc2Error(
      ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: "colour", Values: ["blue"] }] })),
      "InvalidParameterValue",
    );
  });

  it("answers the same reservation to a repeated ClientToken, and refuses it with other parameters", async () => {
    const { ec2 } = await ec2Tenant(s.stack.url, "tokens");
    const input: RunInstancesCommandInput = {
      ImageId: DEFAULT_AMI,
      InstanceType: "t2.nano",
      MinCount: 2,
      MaxCount: 2,
      ClientToken: randomUUID(),
    };
    const first = await ec2.send(new RunInstancesCommand(input));
    const again = await ec2.send(new RunInstancesCommand(input));
    expect(again.ReservationId).toBe(first.ReservationId);
    expect(idsOf(again.Instances ?? [])).toEqual(idsOf(first.Instances ?? []));
    await expectEc2Error(
      ec2.send(new RunInstancesCommand({ ...input, InstanceType: "t2.micro" })),
      "IdempotentParameterMismatch",
    );
    const described = instancesOf((await ec2.send(new DescribeInstancesCommand({}))).Reservations);
    expect(idsOf(described)).toEqual(idsOf(first.Instances ?? []));
  });

  it("round-trips hostile tag keys and values through the SDK's XML", async () => {
    const { ec2, rest } = await ec2Tenant(s.stack.url, "hostile");
    const hostile = {
      Name: `</value><x>&"'`,
      "<key>&amp;": "]]><![CDATA[x]]>",
      unicode: "héllo wörld 日本語 עברית 💥 e\u0301",
      "  spaced  ": "  padded value  ",
      empty: "",
    };
    const [id] = await launch(ec2, 1, { tags: hostile });
    const tagsOf = (tags: { Key?: string; Value?: string }[] | undefined) =>
      Object.fromEntries((tags ?? []).map((t) => [t.Key, t.Value]));
    const [described] = instancesOf(
      (await ec2.send(new DescribeInstancesCommand({ InstanceIds: [id as string] }))).Reservations,
    );
    expect(tagsOf(described?.Tags)).toEqual(hostile);
    expect((await restServer(rest, id as string)).tags).toEqual(hostile);

    const more = { "a&b<c>": `"quoted" & 'single'`, "\u{1F600}": "\t tab" };
    await ec2.send(
      new CreateTagsCommand({
        Resources: [id as string],
        Tags: Object.entries(more).map(([Key, Value]) => ({ Key, Value })),
      }),
    );
    const tags: Tag[] = [];
    for await (const page of paginateDescribeTags({ client: ec2, pageSize: 5 }, {}))
      tags.push(...(page.Tags ?? []));
    expect(tagsOf(tags)).toEqual({ ...hostile, ...more });
  });
});
