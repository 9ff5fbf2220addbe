import type { Instance } from "@cloudsim/shared";
import { describe, expect, it } from "vitest";
import { isProtected, protection, refusal, verdictOf } from "./ec2-actions.ts";

describe("verdictOf", () => {
  it.each([
    ["start", "stopped", "act"],
    ["start", "running", "unchanged"],
    ["start", "provisioning", "unchanged"],
    ["start", "stopping", "refused"],
    ["start", "terminated", "refused"],
    ["stop", "running", "act"],
    ["stop", "stopped", "unchanged"],
    ["stop", "provisioning", "refused"],
    ["reboot", "running", "act"],
    ["reboot", "terminated", "unchanged"],
    ["reboot", "stopped", "refused"],
    ["terminate", "stopped", "act"],
    ["terminate", "terminated", "unchanged"],
    ["terminate", "error", "unchanged"],
  ] as const)("%s of a server %s: %s", (action, state, verdict) => {
    expect(verdictOf(action, state)).toBe(verdict);
  });
});

describe("refusal", () => {
  const instance = (state: Instance["state"], stateName: Instance["state_name"]) =>
    ({ instance_id: "i-0123456789abcdef0", state, state_name: stateName }) as Instance;
  it("says a pending instance never reached running", () => {
    expect(refusal("stop", instance("provisioning", "pending")).message).toBe(
      "Instance 'i-0123456789abcdef0' cannot be stopped as it has never reached the 'running' state.",
    );
  });
  it("names the action's past in EC2's wording", () => {
    expect(refusal("start", instance("terminated", "terminated")).message).toBe(
      "The instance 'i-0123456789abcdef0' is not in a state from which it can be started.",
    );
    expect(refusal("reboot", instance("stopped", "stopped")).details).toMatchObject({ state: "stopped" });
  });
});

describe("protection", () => {
  const instance = (over: Partial<Instance>) =>
    ({
      instance_id: "i-0123456789abcdef0",
      disable_api_termination: false,
      disable_api_stop: false,
      ...over,
    }) as Instance;
  it("forbids a terminate under disableApiTermination and a stop under disableApiStop, nothing else", () => {
    expect(isProtected("terminate", instance({ disable_api_termination: true }))).toBe(true);
    expect(isProtected("stop", instance({ disable_api_termination: true }))).toBe(false);
    expect(isProtected("stop", instance({ disable_api_stop: true }))).toBe(true);
    expect(isProtected("reboot", instance({ disable_api_stop: true, disable_api_termination: true }))).toBe(
      false,
    );
  });
  it("says so in EC2's words", () => {
    expect(protection("terminate", instance({})).message).toBe(
      "The instance 'i-0123456789abcdef0' may not be terminated. Modify its 'disableApiTermination' instance attribute and try again.",
    );
    expect(protection("stop", instance({})).details).toMatchObject({ reason: "operation_not_permitted" });
  });
});
