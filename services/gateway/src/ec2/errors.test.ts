import { AppError, type ErrorCode, errorCodes } from "@cloudsim/shared";
import { describe, expect, it } from "vitest";
import {
  authFailure,
  dryRunOperation,
  Ec2Error,
  ec2ErrorOf,
  invalidAction,
  invalidParameterValue,
  missingAuth,
  signatureDoesNotMatch,
} from "./errors.ts";

const mapped = (code: ErrorCode, message: string, details = {}) =>
  ec2ErrorOf(new AppError(code, message, details));

describe("ec2ErrorOf", () => {
  it.each([
    ["VALIDATION", {}, "InvalidParameterValue", 400],
    ["VALIDATION", { reason: "tag_limit", limit: 50 }, "TagLimitExceeded", 400],
    ["NOT_FOUND", { server_id: "i-0abc" }, "InvalidInstanceID.NotFound", 400],
    ["NOT_FOUND", { image_id: "ami-0abc" }, "InvalidAMIID.NotFound", 400],
    ["NOT_FOUND", { tenant_id: "t-1" }, "InvalidParameterValue", 400],
    ["CONFLICT", { reason: "idempotent_mismatch" }, "IdempotentParameterMismatch", 400],
    ["CONFLICT", { state: "stopped", action: "stop" }, "IncorrectInstanceState", 400],
    ["EXHAUSTED", { region: "eu-west-1" }, "InsufficientFreeAddressesInSubnet", 400],
    ["EXHAUSTED", { reason: "capacity" }, "InsufficientInstanceCapacity", 500],
    ["QUOTA_EXCEEDED", { quota: "max_servers", limit: 5 }, "InstanceLimitExceeded", 400],
    ["QUOTA_EXCEEDED", { quota: "max_vcpus", limit: 8 }, "VcpuLimitExceeded", 400],
    ["RATE_LIMITED", {}, "RequestLimitExceeded", 503],
    ["UNAUTHORIZED", {}, "AuthFailure", 401],
    ["FORBIDDEN", {}, "UnauthorizedOperation", 403],
    ["UNAVAILABLE", {}, "Unavailable", 503],
    ["INTERNAL", {}, "InternalError", 500],
  ] as const)("maps %s %o to %s (%d)", (code, details, ec2Code, status) => {
    const err = mapped(code, "what happened", details);
    expect(err).toBeInstanceOf(Ec2Error);
    expect(err.code).toBe(ec2Code);
    expect(err.status).toBe(status);
  });

  it.each(errorCodes)("maps %s to an EC2 error status", (code) => {
    const status = mapped(code, "x").status;
    expect(status).toBeGreaterThanOrEqual(400);
    expect(status).toBeLessThan(600);
  });

  it("keeps the message of a validation failure", () => {
    expect(mapped("VALIDATION", "MaxResults must be at least 5").message).toBe(
      "MaxResults must be at least 5",
    );
  });

  it("names the instance, preferring instance_id to server_id", () => {
    expect(mapped("NOT_FOUND", "server srv-1 does not exist", { server_id: "i-0abc" }).message).toBe(
      "The instance ID 'i-0abc' does not exist",
    );
    expect(mapped("NOT_FOUND", "x", { server_id: "srv-1", instance_id: "i-0def" }).message).toBe(
      "The instance ID 'i-0def' does not exist",
    );
  });

  it("names every instance that does not exist", () => {
    expect(mapped("NOT_FOUND", "x", { instance_id: "i-1", instance_ids: ["i-1", "i-2"] }).message).toBe(
      "The instance IDs 'i-1, i-2' do not exist",
    );
  });

  it("gives the vCPU limit when the quota has one", () => {
    expect(mapped("QUOTA_EXCEEDED", "x", { quota: "max_vcpus", limit: 8 }).message).toContain("limit of 8");
  });

  it.each([
    new AppError("INTERNAL", "pool exhausted: password=hunter2"),
    new Error("connect ECONNREFUSED 10.0.0.7:5432"),
    "a thrown string",
  ])("never shows an internal message (%s)", (thrown) => {
    const err = ec2ErrorOf(thrown);
    expect(err.code).toBe("InternalError");
    expect(err.status).toBe(500);
    expect(err.message).toBe("An internal error has occurred. Please try again later.");
    expect(err.cause).toBe(thrown);
  });

  it("passes an Ec2Error through unchanged", () => {
    const err = invalidParameterValue("MaxResults", "1", "Expecting a value greater than 5.");
    expect(ec2ErrorOf(err)).toBe(err);
  });
});

describe("the fixed errors", () => {
  it.each([
    [dryRunOperation(), "DryRunOperation", 412, "Request would have succeeded, but DryRun flag is set."],
    [
      invalidAction("Frobnicate"),
      "InvalidAction",
      400,
      "The action Frobnicate is not valid for this web service.",
    ],
    [
      signatureDoesNotMatch(),
      "SignatureDoesNotMatch",
      403,
      "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.",
    ],
    [authFailure(), "AuthFailure", 401, "AWS was not able to validate the provided access credentials"],
    [authFailure("unknown access key"), "AuthFailure", 401, "unknown access key"],
  ])("%s", (err, code, status, message) => {
    expect([err.code, err.status, err.message]).toEqual([code, status, message]);
  });

  it("answers a request without Authorization with AuthFailure 401", () => {
    expect([missingAuth().code, missingAuth().status]).toEqual(["AuthFailure", 401]);
  });

  it("clips a long client value in a message", () => {
    const err = invalidParameterValue("ImageId", "a".repeat(10_000), "Unknown image.");
    expect(err.message.length).toBeLessThan(300);
  });
});
