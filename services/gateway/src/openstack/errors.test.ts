import { AppError } from "@cloudsim/shared";
import { describe, expect, it } from "vitest";
import { invalidState, keystoneError, novaFault, OsError, osErrorOf } from "./errors.ts";

describe("the OpenStack error table", () => {
  it("turns a quota refusal into Nova's 403 TooManyInstances message", () => {
    const err = osErrorOf(
      new AppError("QUOTA_EXCEEDED", "max_servers quota exceeded", {
        quota: "max_servers",
        limit: 2,
        usage: 2,
        requested: 1,
      }),
    );
    expect(novaFault(err)).toEqual({
      forbidden: {
        code: 403,
        message: "Quota exceeded for instances: Requested 1, but already used 2 of 2 instances",
      },
    });
    const cores = osErrorOf(
      new AppError("QUOTA_EXCEEDED", "x", { quota: "max_vcpus", limit: 4, usage: 4, requested: 2 }),
    );
    expect(cores.message).toBe("Quota exceeded for cores: Requested 2, but already used 4 of 4 cores");
  });

  it("names a server that is not found as Nova does, and keeps internal messages in", () => {
    const gone = osErrorOf(new AppError("NOT_FOUND", "server x not found", { server_id: "abc" }));
    expect(novaFault(gone)).toEqual({
      itemNotFound: { code: 404, message: "Instance abc could not be found." },
    });
    const internal = osErrorOf(new AppError("INTERNAL", "the database said something private"));
    expect(internal.status).toBe(500);
    expect(internal.message).not.toMatch(/private/);
    expect(Object.keys(novaFault(internal))).toEqual(["computeFault"]);
    expect(osErrorOf(new Error("boom")).status).toBe(500);
  });

  it("maps every code to a status, and a rate limit to overLimit with retryAfter", () => {
    const limited = osErrorOf(new AppError("RATE_LIMITED", "slow down", { retry_after_seconds: 7 }));
    expect(novaFault(limited)).toEqual({
      overLimit: { code: 429, message: "This request was rate-limited.", retryAfter: "7" },
    });
    expect(osErrorOf(new AppError("VALIDATION", "name: bad")).status).toBe(400);
    expect(osErrorOf(new AppError("UNAUTHORIZED", "x")).status).toBe(401);
    expect(osErrorOf(new AppError("FORBIDDEN", "x")).status).toBe(403);
    expect(osErrorOf(new AppError("CONFLICT", "x")).status).toBe(409);
    expect(osErrorOf(new AppError("UNAVAILABLE", "x")).status).toBe(503);
    // The framework's own 4xx (a malformed body, another media type) keep their status.
    expect(osErrorOf(Object.assign(new Error("Unsupported Media Type"), { statusCode: 415 })).status).toBe(
      415,
    );
  });

  it("renders Nova's 409 and Keystone's 401 word for word", () => {
    expect(novaFault(invalidState("stop", "id-1", "vm_state", "stopped"))).toEqual({
      conflictingRequest: {
        code: 409,
        message: "Cannot 'stop' instance id-1 while it is in vm_state stopped",
      },
    });
    expect(keystoneError(new OsError(401, "The request you have made requires authentication."))).toEqual({
      error: {
        code: 401,
        title: "Unauthorized",
        message: "The request you have made requires authentication.",
      },
    });
  });
});
