import { describe, expect, it } from "vitest";
import { Ec2Error } from "./errors.ts";
import { accountIdOf, stsAnswer } from "./sts.ts";

describe("STS's GetCallerIdentity", () => {
  it("gives a tenant the account id lifecycle's and ipam's SQL derive (values from psql)", () => {
    expect(accountIdOf("default")).toBe("440926539523");
    expect(accountIdOf("t-42")).toBe("942088407199");
  });

  it("answers in STS's envelope, the admin key as the default tenant's account", () => {
    const xml = stsAnswer("GetCallerIdentity", { tenantId: null, keyId: "admin", admin: true }, "req-1");
    expect(xml).toContain('<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">');
    expect(xml).toContain(
      "<GetCallerIdentityResult><Arn>arn:aws:iam::440926539523:user/admin</Arn><UserId>admin</UserId><Account>440926539523</Account></GetCallerIdentityResult>",
    );
    expect(xml).toContain("<ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata>");
  });

  it("refuses any other STS action by name", () => {
    expect(() => stsAnswer("AssumeRole", { tenantId: "t", keyId: "k", admin: false }, "r")).toThrow(Ec2Error);
  });
});
