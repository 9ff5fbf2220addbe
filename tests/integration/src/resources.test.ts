import {
  CreateKeyPairCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVolumeCommand,
  CreateVpcCommand,
} from "@aws-sdk/client-ec2";
import { describe, expect, it } from "vitest";
import { ec2Env, ec2Tenant } from "./ec2-helpers.ts";
import { useStack } from "./harness.ts";
import { ADMIN_KEY, expectProblem, keyed } from "./tenancy-helpers.ts";

const ids = (body: { items: Record<string, unknown>[] }, field: string) =>
  body.items.map((item) => item[field]);

describe("the EC2 world in the REST API", () => {
  const s = useStack({ env: ec2Env });

  it("lists what a tenant made through the EC2 API, region by region, in pages, and nothing of another's", async () => {
    const a = await ec2Tenant(s.stack.url, "resources-a");
    const b = await ec2Tenant(s.stack.url, "resources-b", "eu-west-1");
    const vpc = (await a.ec2.send(new CreateVpcCommand({ CidrBlock: "10.40.0.0/16" }))).Vpc?.VpcId;
    const subnet = (await a.ec2.send(new CreateSubnetCommand({ VpcId: vpc, CidrBlock: "10.40.1.0/24" })))
      .Subnet?.SubnetId;
    const group = (
      await a.ec2.send(new CreateSecurityGroupCommand({ GroupName: "web", Description: "web", VpcId: vpc }))
    ).GroupId;
    const volume = (await a.ec2.send(new CreateVolumeCommand({ AvailabilityZone: "us-east-1a", Size: 5 })))
      .VolumeId;
    for (const name of ["one", "two", "three"]) await a.ec2.send(new CreateKeyPairCommand({ KeyName: name }));
    await b.ec2.send(new CreateKeyPairCommand({ KeyName: "b-only" }));

    const vpcs = await a.rest.get("/vpcs?region=us-east-1");
    expect(vpcs.status, JSON.stringify(vpcs.body)).toBe(200);
    expect(ids(vpcs.body, "vpc_id")).toContain(vpc);
    expect(ids((await a.rest.get("/subnets?region=us-east-1&limit=100")).body, "subnet_id")).toContain(
      subnet,
    );
    expect(ids((await a.rest.get("/security-groups?region=us-east-1")).body, "group_id")).toContain(group);
    expect(ids((await a.rest.get("/volumes?region=us-east-1")).body, "volume_id")).toEqual([volume]);

    // Pages of two, then the rest: the three key pairs, each once.
    const first = await a.rest.get("/key-pairs?region=us-east-1&limit=2");
    expect(first.body.items).toHaveLength(2);
    expect(first.body.next_cursor).toEqual(expect.any(String));
    const rest = await a.rest.get(`/key-pairs?region=us-east-1&limit=2&cursor=${first.body.next_cursor}`);
    expect(rest.body.next_cursor).toBeNull();
    expect([...ids(first.body, "key_name"), ...ids(rest.body, "key_name")].sort()).toEqual([
      "one",
      "three",
      "two",
    ]);

    // Regional, and tenant-scoped: B's key is in eu-west-1 and is B's; the admin key sees both tenants'.
    expect(ids((await a.rest.get("/key-pairs?region=eu-west-1")).body, "key_name")).toEqual([]);
    expect(ids((await b.rest.get("/key-pairs?region=eu-west-1")).body, "key_name")).toEqual(["b-only"]);
    expect(ids((await b.rest.get("/volumes?region=us-east-1")).body, "volume_id")).toEqual([]);
    const admin = keyed(s.stack.url, ADMIN_KEY);
    expect(ids((await admin.get("/key-pairs?region=us-east-1&limit=40")).body, "key_name")).toEqual(
      expect.arrayContaining(["one", "two", "three"]),
    );
  });

  it("refuses a missing region, a page too large and a cursor it never gave, naming the field", async () => {
    const a = await ec2Tenant(s.stack.url, "resources-errors");
    const missing = await a.rest.get("/vpcs");
    expectProblem(missing, 400, "VALIDATION");
    expect(JSON.stringify(missing.body)).toContain("region");
    const large = await a.rest.get("/volumes?region=us-east-1&limit=41");
    expectProblem(large, 400, "VALIDATION");
    expect(JSON.stringify(large.body)).toContain("limit");
    expectProblem(await a.rest.get("/key-pairs?region=us-east-1&cursor=nonsense"), 400, "VALIDATION");
    expectProblem(await a.rest.get("/subnets?region=mars-1"), 400, "VALIDATION");
  });
});
