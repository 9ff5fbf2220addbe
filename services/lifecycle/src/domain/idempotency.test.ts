import { describe, expect, it } from "vitest";
import { requestHash } from "./idempotency.ts";

describe("requestHash", () => {
  it("ignores key order and absent fields", () => {
    expect(requestHash({ region: "us-east-1", type: "t2.micro", tags: { a: "1", b: "2" } })).toBe(
      requestHash({ tags: { b: "2", a: "1" }, name: undefined, type: "t2.micro", region: "us-east-1" }),
    );
  });
  it("tells different bodies apart", () => {
    expect(requestHash({ region: "us-east-1", type: "t2.micro" })).not.toBe(
      requestHash({ region: "us-east-1", type: "t2.small" }),
    );
    expect(requestHash({ tags: { a: "1" } })).not.toBe(requestHash({ tags: { a: "2" } }));
  });
});
