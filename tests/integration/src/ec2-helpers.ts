import {
  type _InstanceType,
  DescribeInstancesCommand,
  type DescribeInstancesCommandInput,
  EC2Client,
  type EC2ClientConfig,
  EC2ServiceException,
  type Instance,
  type Reservation,
  RunInstancesCommand,
  type RunInstancesCommandInput,
} from "@aws-sdk/client-ec2";
import type { Env } from "@cloudsim/shared";
import { expect } from "vitest";
import { authEnv, type Keyed, keyed, newTenant } from "./tenancy-helpers.ts";

export const DEFAULT_AMI = "ami-0c1a7f8e2d3b4a5c6";
export const OTHER_AMI = "ami-0d2b8e9f3a4c5b6d7";

/** A stack whose every call needs a key, with short transitions and status checks. */
export const ec2Env: Env = {
  ...authEnv,
  PROVISION_DELAY: "300ms",
  START_DELAY: "300ms",
  STOP_DELAY: "300ms",
  REBOOT_DELAY: "300ms",
  TERMINATE_DELAY: "300ms",
  EC2_STATUS_CHECK_DELAY: "1s",
};

/** An EC2 client of the gateway at `url`, signing with an API key as its AWS credentials. */
export function ec2Client(
  url: string,
  key: { keyId: string; key: string },
  options: Partial<EC2ClientConfig> = {},
): EC2Client {
  return new EC2Client({
    region: "us-east-1",
    endpoint: url,
    credentials: { accessKeyId: key.keyId, secretAccessKey: key.key },
    ...options,
  });
}

/** A new tenant with its REST client and an EC2 client signing for `region`. */
export async function ec2Tenant(url: string, name: string, region = "us-east-1") {
  const tenant = await newTenant(url, name);
  return { ...tenant, rest: keyed(url, tenant.key), ec2: ec2Client(url, tenant, { region }) };
}

/** The SDK's waiters, polling every 1-2 s (its floor is 1 s) for at most 30 s. */
export const waiterOf = (client: EC2Client) => ({ client, maxWaitTime: 30, minDelay: 1, maxDelay: 2 });

export const instancesOf = (reservations: readonly Reservation[] | undefined): Instance[] =>
  (reservations ?? []).flatMap((r) => r.Instances ?? []);

export const idsOf = (instances: readonly Instance[]): string[] =>
  instances.map((i) => i.InstanceId ?? "").sort();

/** The ids of the instances DescribeInstances answers, sorted. */
export const describeIds = async (client: EC2Client, input: DescribeInstancesCommandInput = {}) =>
  idsOf(instancesOf((await client.send(new DescribeInstancesCommand(input))).Reservations));

/** A server as the REST API shows it, read by its instance id. */
export async function restServer(rest: Keyed, instanceId: string) {
  const res = await rest.get(`/servers/${instanceId}`);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body;
}

/** Launches `count` instances of one reservation with these tags; answers their ids. */
export async function launch(
  client: EC2Client,
  count: number,
  options: { tags?: Record<string, string>; type?: _InstanceType } & Partial<RunInstancesCommandInput> = {},
): Promise<string[]> {
  const { tags = {}, type = "t2.nano", ...input } = options;
  const run = await client.send(
    new RunInstancesCommand({
      ImageId: DEFAULT_AMI,
      InstanceType: type,
      MinCount: count,
      MaxCount: count,
      TagSpecifications: [
        { ResourceType: "instance", Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) },
      ],
      ...input,
    }),
  );
  expect(run.Instances).toHaveLength(count);
  return idsOf(run.Instances ?? []);
}

/** The SDK exception `call` fails with, which must be named `name` (the EC2 error code). */
export async function expectEc2Error(call: Promise<unknown>, name: string): Promise<EC2ServiceException> {
  const err = await call.then(
    (value) => ({ resolved: value }),
    (e: unknown) => e,
  );
  expect(err, `expected ${name}, got ${JSON.stringify(err)}`).toBeInstanceOf(EC2ServiceException);
  const exception = err as EC2ServiceException;
  expect(exception.name, exception.message).toBe(name);
  return exception;
}
