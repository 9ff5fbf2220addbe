import { describe, expect, it } from "vitest";
import { defaultName, type ServerRow, toServer } from "./server-view.ts";

const row: ServerRow = {
  id: "0193a0b2-7c3e-7000-8000-00000000abcd",
  instanceId: "i-0800000000000abcd",
  reservationId: "r-0800000000000abcd",
  tenantId: "default",
  name: "web-1",
  region: "us-east-1",
  type: "t2.medium",
  image: "ami-0c1a7f8e2d3b4a5c6",
  availabilityZone: "us-east-1a",
  state: "running",
  ipAddress: "10.0.0.2",
  keyName: null,
  subnetId: "subnet-0123456789abcdef0",
  vpcId: "vpc-0123456789abcdef0",
  securityGroups: [],
  labels: [],
  tags: { env: "test" },
  createdAt: "2026-01-01T00:00:00.000Z",
  updatedAt: "2026-01-01T00:00:05.000Z",
  runningSince: "2026-01-01T00:00:05.000Z",
};

describe("toServer", () => {
  it("adds the instance type's size and the uptime in whole seconds", () => {
    const server = toServer(row, Date.parse("2026-01-01T00:01:05.900Z"));
    expect(server).toMatchObject({
      vcpus: 2,
      memory_mib: 4096,
      uptime_seconds: 60,
      running_since: "2026-01-01T00:00:05.000Z",
    });
  });
  it("has no uptime unless running", () => {
    const server = toServer({ ...row, state: "provisioning" }, Date.parse("2026-01-01T00:01:05Z"));
    expect(server).toMatchObject({ uptime_seconds: 0, running_since: null });
  });
  it("names a server after the end of its id", () => {
    expect(defaultName(row.id)).toBe("server-0000abcd");
  });
});
