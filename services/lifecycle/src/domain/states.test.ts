import { serverStates } from "@cloudsim/shared";
import { describe, expect, it } from "vitest";
import { completionOf, delayOf } from "./states.ts";

describe("timed states", () => {
  it("moves provisioning to running after PROVISION_DELAY", () => {
    expect(completionOf("provisioning")?.next).toBe("running");
    expect(delayOf("provisioning", { PROVISION_DELAY: 1234 })).toBe(1234);
  });
  it("leaves states that wait for a user alone", () => {
    for (const state of serverStates.filter((s) => s !== "provisioning")) {
      expect(completionOf(state)).toBeUndefined();
      expect(delayOf(state, { PROVISION_DELAY: 1 })).toBeUndefined();
    }
  });
});
