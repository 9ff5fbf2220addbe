import {
  DescribeInstancesCommand,
  EC2Client,
  RunInstancesCommand,
  waitUntilInstanceRunning,
} from "@aws-sdk/client-ec2";
import { getContainerRuntimeClient } from "testcontainers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CloudsimContainer, DEFAULT_IMAGE, type StartedCloudsimContainer } from "../src/index.ts";

const image = process.env.CLOUDSIM_IMAGE ?? DEFAULT_IMAGE;
const say = (line: string) => process.stdout.write(`testcontainers-test: ${line}\n`);

/** The engine's containers, networks and volumes, to compare before and after. */
async function inventory() {
  const { dockerode } = (await getContainerRuntimeClient()).container;
  const containers = (await dockerode.listContainers({ all: true })).map((c) => c.Id);
  const networks = (await dockerode.listNetworks()).map((n) => n.Id);
  const volumes = ((await dockerode.listVolumes()).Volumes ?? []).map((v) => v.Name);
  return { containers, networks, volumes };
}

async function memoryMiB(started: StartedCloudsimContainer): Promise<number> {
  const { container } = await getContainerRuntimeClient();
  const stats = await container.getById(started.getId()).stats({ stream: false });
  // What `docker stats` shows: usage less the page cache it may drop.
  const cache = stats.memory_stats.stats?.inactive_file ?? stats.memory_stats.stats?.total_inactive_file ?? 0;
  return Math.round((stats.memory_stats.usage - cache) / 2 ** 20);
}

/** The REST API's answers the tests read. */
interface Answer {
  id: string;
  state: string;
  billing: { rate: string };
  billable_seconds: number;
  amount: string;
  currency: string;
}

const rest = async (container: StartedCloudsimContainer, method: string, path: string, body?: unknown) => {
  const response = await fetch(`${container.getEndpoint()}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${container.getCredentials().apiKey}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Answer };
};

describe("CloudsimContainer", () => {
  let before: Awaited<ReturnType<typeof inventory>>;
  let real: StartedCloudsimContainer;
  let manual: StartedCloudsimContainer;
  let stopped = false;

  beforeAll(async () => {
    before = await inventory();
    const timed = async (container: CloudsimContainer) => {
      const started = Date.now();
      const running = await container.start();
      const ready = Date.now();
      const { dockerode } = (await getContainerRuntimeClient()).container;
      const { State } = await dockerode.getContainer(running.getId()).inspect();
      const seconds = (ms: number) => (ms / 1000).toFixed(1);
      // Docker's share (a storage driver such as vfs copies the image for each container) apart.
      say(
        `${running.getId().slice(0, 12)} ready in ${seconds(ready - started)} s, ${seconds(ready - Date.parse(State.StartedAt))} s of them after its process started`,
      );
      return running;
    };
    // Two side by side, started together.
    [real, manual] = await Promise.all([
      timed(new CloudsimContainer(image).withDelays({ provision: "3s" })),
      timed(
        new CloudsimContainer(image)
          .withClock("manual", { start: "2030-01-01T00:00:00Z" })
          .withDelays({ provision: "1s" }),
      ),
    ]);
  });

  afterAll(async () => {
    if (!stopped) await Promise.all([real?.stop(), manual?.stop()]);
  });

  it("runs two side by side on ports of their own, each with its own world", async () => {
    expect(real.getEndpoint()).not.toBe(manual.getEndpoint());
    expect(real.getOpenStackAuthUrl()).toBe(`${real.getEndpoint()}/identity/v3`);
    const made = await rest(real, "POST", "/servers", { region: "us-east-1", type: "t2.micro" });
    expect(made.status).toBe(201);
    expect((await rest(real, "GET", `/servers/${made.body.id}`)).status).toBe(200);
    // The other container has its own Postgres: no such server, and a key of the first is unknown there.
    const other = await fetch(`${manual.getEndpoint()}/servers/${made.body.id}`, {
      headers: { authorization: `Bearer ${real.getCredentials().apiKey}` },
    });
    expect(other.status).toBe(401);
    expect((await rest(manual, "GET", `/servers/${made.body.id}`)).status).toBe(404);
    say(`memory after start: ${await memoryMiB(real)} MiB and ${await memoryMiB(manual)} MiB`);
  });

  it("answers an AWS SDK's EC2 waiter: pending, then running", async () => {
    const credentials = real.getCredentials();
    const ec2 = new EC2Client({
      endpoint: real.getEc2Endpoint(),
      region: credentials.region,
      credentials: { accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey },
    });
    const run = await ec2.send(
      new RunInstancesCommand({
        ImageId: "ami-0c1a7f8e2d3b4a5c6",
        InstanceType: "t2.micro",
        MinCount: 1,
        MaxCount: 1,
      }),
    );
    const instanceId = run.Instances?.[0]?.InstanceId as string;
    expect(run.Instances?.[0]?.State?.Name).toBe("pending");
    const waited = Date.now();
    const result = await waitUntilInstanceRunning(
      { client: ec2, maxWaitTime: 60, minDelay: 1, maxDelay: 2 },
      { InstanceIds: [instanceId] },
    );
    expect(result.state).toBe("SUCCESS");
    // The waiter waited out the 3 s provision: it did not find the instance running at once.
    expect(Date.now() - waited).toBeGreaterThan(1_000);
    const described = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
    expect(described.Reservations?.[0]?.Instances?.[0]?.State?.Name).toBe("running");
    ec2.destroy();
  });

  it("bills a month when a manual clock is moved a month", async () => {
    expect(await manual.getClock()).toMatchObject({
      mode: "simulated",
      rate: 0,
      now: "2030-01-01T00:00:00.000Z",
    });
    const made = await rest(manual, "POST", "/servers", { region: "us-east-1", type: "t2.micro" });
    expect(made.status).toBe(201);
    // The clock stands still: the 1 s provision ends only when the clock is moved past it.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect((await rest(manual, "GET", `/servers/${made.body.id}`)).body.state).toBe("provisioning");
    await manual.advanceClock("1s");
    const running = await rest(manual, "GET", `/servers/${made.body.id}`);
    expect(running.body.state).toBe("running");

    const moved = await manual.advanceClock("30d");
    expect(moved).toMatchObject({ caught_up: true, now: "2030-01-31T00:00:01.000Z" });
    const server = await rest(manual, "GET", `/servers/${made.body.id}`);
    const ledger = await rest(manual, "GET", `/servers/${made.body.id}/billing`);
    expect(ledger.status).toBe(200);
    const month = 30 * 86_400;
    expect(ledger.body.billable_seconds).toBeGreaterThan(month - 120);
    expect(ledger.body.billable_seconds).toBeLessThanOrEqual(month);
    const perMinute = Number(server.body.billing.rate);
    expect(perMinute).toBeGreaterThan(0);
    expect(Number(ledger.body.amount)).toBeCloseTo((ledger.body.billable_seconds / 60) * perMinute, 2);
    say(
      `a month of t2.micro on the manual clock: ${ledger.body.billable_seconds} s, ${ledger.body.amount} ${ledger.body.currency}`,
    );
  });

  it("leaves no container, network or volume behind once stopped", async () => {
    const ids = [real.getId(), manual.getId()];
    const during = await inventory();
    expect(during.containers).toEqual(expect.arrayContaining(ids));
    await Promise.all([real.stop(), manual.stop()]);
    stopped = true;
    const after = await inventory();
    for (const id of ids) expect(after.containers).not.toContain(id);
    expect(after.containers.sort()).toEqual(before.containers.sort());
    expect(after.networks.sort()).toEqual(before.networks.sort());
    expect(after.volumes.sort()).toEqual(before.volumes.sort());
  });
});
