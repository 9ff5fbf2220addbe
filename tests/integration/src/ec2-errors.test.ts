import { randomUUID } from "node:crypto";
import {
  DescribeInstancesCommand,
  DescribeRegionsCommand,
  type EC2Client,
  ModifyInstanceAttributeCommand,
  RunInstancesCommand,
  StartInstancesCommand,
  StopInstancesCommand,
  TerminateInstancesCommand,
  waitUntilInstanceRunning,
  waitUntilInstanceTerminated,
} from "@aws-sdk/client-ec2";
import { describe, expect, it } from "vitest";
import {
  DEFAULT_AMI,
  describeIds,
  ec2Client,
  ec2Env,
  ec2Tenant,
  expectEc2Error,
  idsOf,
  instancesOf,
  launch,
  restServer,
  waiterOf,
} from "./ec2-helpers.ts";
import { eventually, fastEnv, useStack } from "./harness.ts";
import { ADMIN_KEY, type Keyed, keyed } from "./tenancy-helpers.ts";

/** eu-central-1 on a /29: five usable addresses. */
const smallRegion = "eu-central-1";
const smallPools = (fastEnv.IPAM_POOLS ?? "")
  .split(",")
  .map((entry) => (entry.startsWith(`${smallRegion}=`) ? `${smallRegion}=10.9.0.0/29` : entry))
  .join(",");

async function poolOf(rest: Keyed, region: string): Promise<{ used: number; free: number }> {
  const res = await rest.get("/ipam/pools");
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.items.find((p: { region: string }) => p.region === region);
}
const poolUsed = async (rest: Keyed, region: string) => (await poolOf(rest, region)).used;

const _stateOver = async (rest: Keyed, instanceId: string) =>
  (await rest.get(`/servers/${instanceId}`)).body.state;

/** Makes every request of `client` ask for `action` instead, still signed by the SDK. */
function askingFor(client: EC2Client, action: string): EC2Client {
  client.middlewareStack.add(
    (next) => async (args) => {
      const request = args.request as { body?: unknown };
      if (typeof request.body === "string")
        request.body = request.body.replace(/^Action=\w+/, `Action=${encodeURIComponent(action)}`);
      return next(args);
    },
    { step: "build", priority: "high" },
  );
  return client;
}

describe("EC2 errors, each by a real cause", () => {
  const s = useStack({
    env: { ...ec2Env, PROVISION_DELAY: "2s", IPAM_POOLS: smallPools, EC2_TERMINATED_RETENTION: "2s" },
  });

  it("launches what the quota allows up to MaxCount, then InstanceLimitExceeded", async () => {
    const { id, ec2 } = await ec2Tenant(s.stack.url, "quota");
    const patched = await keyed(s.stack.url, ADMIN_KEY).call("PATCH", `/admin/tenants/${id}`, {
      max_servers: 3,
    });
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    const run = await ec2.send(
      new RunInstancesCommand({ ImageId: DEFAULT_AMI, InstanceType: "t2.nano", MinCount: 1, MaxCount: 5 }),
    );
    expect(run.Instances).toHaveLength(3);
    expect(run.Instances?.map((i) => i.AmiLaunchIndex)).toEqual([0, 1, 2]);
    await expectEc2Error(launch(ec2, 1), "InstanceLimitExceeded");
    expect(await describeIds(ec2)).toEqual(idsOf(run.Instances ?? []));
  });

  it("launches what the address pool holds, then InsufficientFreeAddressesInSubnet with nothing half-launched", async () => {
    const { ec2, rest } = await ec2Tenant(s.stack.url, "pool", smallRegion);
    const first = await launch(ec2, 3);
    expect(await poolUsed(rest, smallRegion)).toBe(3);
    await expectEc2Error(
      ec2.send(new RunInstancesCommand({ ImageId: DEFAULT_AMI, MinCount: 3, MaxCount: 4 })),
      "InsufficientFreeAddressesInSubnet",
    );
    expect(await describeIds(ec2)).toEqual(first);
    expect(await poolUsed(rest, smallRegion)).toBe(3);
    // The refused launch's addresses cool down (IP_REUSE_COOLDOWN) before they are free again.
    await eventually(async () => ((await poolOf(rest, smallRegion)).free === 2 ? true : undefined));
    const last = await ec2.send(new RunInstancesCommand({ ImageId: DEFAULT_AMI, MinCount: 1, MaxCount: 5 }));
    expect(last.Instances).toHaveLength(2);
    expect(await poolOf(rest, smallRegion)).toMatchObject({ used: 5, free: 0 });
  });

  it("IncorrectInstanceState: stopping a pending instance, modifying a running one, starting a terminated one", async () => {
    const { ec2, rest } = await ec2Tenant(s.stack.url, "states");
    const [id = ""] = await launch(ec2, 1);
    const ids = { InstanceIds: [id] };
    const pending = await expectEc2Error(ec2.send(new StopInstancesCommand(ids)), "IncorrectInstanceState");
    expect(pending.message).toContain("never reached the 'running' state");
    await waitUntilInstanceRunning(waiterOf(ec2), ids);
    await expectEc2Error(
      ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: id, InstanceType: { Value: "t2.large" } })),
      "IncorrectInstanceState",
    );
    expect((await rest.get(`/servers/${id}`)).body).toMatchObject({ state: "running", type: "t2.nano" });
    await ec2.send(new TerminateInstancesCommand(ids));
    await waitUntilInstanceTerminated(waiterOf(ec2), ids);
    await expectEc2Error(ec2.send(new StartInstancesCommand(ids)), "IncorrectInstanceState");
  });

  it("InvalidInstanceID.NotFound for an unknown id or another tenant's, and none of the others is touched", async () => {
    const { ec2, rest } = await ec2Tenant(s.stack.url, "owner");
    const other = await ec2Tenant(s.stack.url, "other");
    const [id = ""] = await launch(ec2, 1);
    await waitUntilInstanceRunning(waiterOf(ec2), { InstanceIds: [id] });
    const unknown = "i-0123456789abcdef0";
    const notFound = await expectEc2Error(
      ec2.send(new DescribeInstancesCommand({ InstanceIds: [id, unknown] })),
      "InvalidInstanceID.NotFound",
    );
    expect(notFound.message).toContain(unknown);
    expect(notFound.$metadata.httpStatusCode).toBe(400);
    await expectEc2Error(
      ec2.send(new StopInstancesCommand({ InstanceIds: [id, unknown] })),
      "InvalidInstanceID.NotFound",
    );
    await expectEc2Error(
      other.ec2.send(new TerminateInstancesCommand({ InstanceIds: [id] })),
      "InvalidInstanceID.NotFound",
    );
    expect((await restServer(rest, id)).state).toBe("running");
  });

  it("InvalidInstanceID.Malformed, InvalidAMIID.NotFound and InvalidParameterCombination", async () => {
    const { ec2 } = await ec2Tenant(s.stack.url, "params");
    for (const malformed of ["i-123", "server-1", "i-0123456789ABCDEF0"]) {
      await expectEc2Error(
        ec2.send(new DescribeInstancesCommand({ InstanceIds: [malformed] })),
        "InvalidInstanceID.Malformed",
      );
    }
    await expectEc2Error(
      ec2.send(new TerminateInstancesCommand({ InstanceIds: ["i-nothex"] })),
      "InvalidInstanceID.Malformed",
    );
    await expectEc2Error(
      ec2.send(new RunInstancesCommand({ ImageId: "ami-0123456789abcdef0", MinCount: 1, MaxCount: 1 })),
      "InvalidAMIID.NotFound",
    );
    const [id = ""] = await launch(ec2, 1);
    await expectEc2Error(
      ec2.send(new DescribeInstancesCommand({ InstanceIds: [id], MaxResults: 5 })),
      "InvalidParameterCombination",
    );
    expect(await describeIds(ec2)).toEqual([id]);
  });

  it("DryRunOperation (412) does nothing, and does not spend the ClientToken", async () => {
    const { ec2, rest } = await ec2Tenant(s.stack.url, "dry", "ap-southeast-1");
    const used = await poolUsed(rest, "ap-southeast-1");
    const token = randomUUID();
    const input = { ImageId: DEFAULT_AMI, MinCount: 2, MaxCount: 2, ClientToken: token };
    const dry = await expectEc2Error(
      ec2.send(new RunInstancesCommand({ ...input, DryRun: true })),
      "DryRunOperation",
    );
    expect(dry.$metadata.httpStatusCode).toBe(412);
    // A dry run checks what a launch would: an unknown image is not a DryRunOperation.
    await expectEc2Error(
      ec2.send(new RunInstancesCommand({ ...input, ImageId: "ami-00000000000000000", DryRun: true })),
      "InvalidAMIID.NotFound",
    );
    expect(await describeIds(ec2)).toEqual([]);
    expect(await poolUsed(rest, "ap-southeast-1")).toBe(used);
    const run = await ec2.send(new RunInstancesCommand({ ...input, InstanceType: "t2.small" }));
    expect(run.Instances).toHaveLength(2);
    const [id = ""] = idsOf(run.Instances ?? []);
    await waitUntilInstanceRunning(waiterOf(ec2), { InstanceIds: [id] });
    await expectEc2Error(
      ec2.send(new StopInstancesCommand({ InstanceIds: [id], DryRun: true })),
      "DryRunOperation",
    );
    expect((await restServer(rest, id)).state).toBe("running");
  });

  it("InvalidAction for an action the API does not have, signed like any other", async () => {
    const tenant = await ec2Tenant(s.stack.url, "actions");
    const client = askingFor(ec2Client(s.stack.url, tenant), "Nope");
    const err = await expectEc2Error(client.send(new DescribeRegionsCommand({})), "InvalidAction");
    expect(err.message).toContain("Nope");
    expect(err.$metadata.httpStatusCode).toBe(400);
  });

  it("AuthFailure for an unknown access key, SignatureDoesNotMatch for a wrong secret", async () => {
    const tenant = await ec2Tenant(s.stack.url, "signer");
    const stranger = ec2Client(s.stack.url, { keyId: randomUUID(), key: tenant.key });
    const unknown = await expectEc2Error(stranger.send(new DescribeInstancesCommand({})), "AuthFailure");
    expect(unknown.$metadata.httpStatusCode).toBe(401);
    const forger = ec2Client(s.stack.url, { keyId: tenant.keyId, key: `${tenant.key.slice(0, -4)}AAAA` });
    const forged = await expectEc2Error(
      forger.send(new DescribeInstancesCommand({})),
      "SignatureDoesNotMatch",
    );
    expect(forged.$metadata.httpStatusCode).toBe(403);
    expect(await describeIds(tenant.ec2)).toEqual([]);
  });

  it("shows a terminated instance for EC2_TERMINATED_RETENTION, then InvalidInstanceID.NotFound", async () => {
    const { ec2, rest } = await ec2Tenant(s.stack.url, "retention", "us-west-2");
    const [id = ""] = await launch(ec2, 1);
    const byId = () => ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }));
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
    const terminatedSeenAt = await eventually(async () => {
      const [instance] = instancesOf((await byId()).Reservations);
      return instance?.State?.Name === "terminated" ? Date.now() : undefined;
    });
    expect(await describeIds(ec2)).toEqual([id]);
    const goneAt = await eventually(async () => {
      const answer = await byId().then(
        () => undefined,
        (err: Error) => err,
      );
      if (answer === undefined) return undefined;
      expect(answer.name).toBe("InvalidInstanceID.NotFound");
      return Date.now();
    });
    // Seen terminated at most a poll after it was; gone no sooner than the 2 s retention.
    expect(goneAt - terminatedSeenAt).toBeGreaterThan(1500);
    expect(await describeIds(ec2)).toEqual([]);
    expect((await restServer(rest, id)).state).toBe("terminated");
  });
});

describe("EC2 throttling", () => {
  const s = useStack({ env: { ...ec2Env, RATE_LIMIT_PER_MINUTE: "5" } });

  it("answers RequestLimitExceeded as HTTP 503 once a key's requests pass the rate limit", async () => {
    const tenant = await ec2Tenant(s.stack.url, "busy");
    const client = ec2Client(s.stack.url, tenant, { maxAttempts: 1 });
    for (let i = 0; i < 5; i++) await client.send(new DescribeInstancesCommand({}));
    const throttled = await expectEc2Error(
      client.send(new DescribeInstancesCommand({})),
      "RequestLimitExceeded",
    );
    expect(throttled.$metadata.httpStatusCode).toBe(503);
    expect(throttled.$metadata.attempts).toBe(1);
  });
});
