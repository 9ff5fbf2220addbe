import { MAX_ATTACHMENTS, ROOT_DEVICE } from "@cloudsim/shared";
import { describe, expect, it } from "vitest";
import {
  attachRefusal,
  deleteRefusal,
  detachRefusal,
  type InstanceFacts,
  type VolumeFacts,
} from "./volume-rules.ts";

const volume = (over: Partial<VolumeFacts> = {}): VolumeFacts => ({
  volumeId: "vol-1",
  state: "available",
  zone: "eu-west-1a",
  attachment: null,
  ...over,
});
const attached = (over: Partial<NonNullable<VolumeFacts["attachment"]>> = {}) =>
  volume({
    state: "in-use",
    attachment: { instanceId: "i-1", device: "/dev/sdf", state: "attached", ...over },
  });
const instance = (over: Partial<InstanceFacts> = {}): InstanceFacts => ({
  instanceId: "i-1",
  state: "running",
  zone: "eu-west-1a",
  devices: [ROOT_DEVICE],
  ...over,
});
const reason = (error: { details?: Record<string, unknown> } | undefined) => error?.details?.reason;

describe("attachRefusal", () => {
  it("lets an available volume onto a free device of a running or stopped instance in its zone", () => {
    expect(attachRefusal(volume(), instance(), "/dev/sdf")).toBeUndefined();
    expect(attachRefusal(volume(), instance({ state: "stopped" }), "/dev/sdf")).toBeUndefined();
  });
  it.each([
    ["a volume already attached", attached(), instance(), "/dev/sdg", "volume_in_use"],
    ["a volume still creating", volume({ state: "creating" }), instance(), "/dev/sdf", "volume_state"],
    ["another zone", volume({ zone: "eu-west-1b" }), instance(), "/dev/sdf", "volume_zone_mismatch"],
    ["a device in use", volume(), instance(), ROOT_DEVICE, "device_in_use"],
    [
      "an instance at its limit",
      volume(),
      instance({ devices: Array.from({ length: MAX_ATTACHMENTS }, (_, i) => `/dev/sd${i}`) }),
      "/dev/sdz",
      "attachment_limit",
    ],
  ])("refuses %s, saying why", (_, v, i, device, why) => {
    expect(reason(attachRefusal(v, i, device))).toBe(why);
  });
  it("refuses an instance that is neither running nor stopped, naming its state", () => {
    const refusal = attachRefusal(volume(), instance({ state: "provisioning" }), "/dev/sdf");
    expect(refusal).toMatchObject({ code: "CONFLICT", details: { state: "provisioning" } });
  });
});

describe("detachRefusal", () => {
  it("lets an attached data volume go, from its instance or device or either", () => {
    expect(detachRefusal(attached(), {}, "running")).toBeUndefined();
    expect(detachRefusal(attached(), { instanceId: "i-1", device: "/dev/sdf" }, "running")).toBeUndefined();
  });
  it("refuses a volume attached nowhere", () => {
    expect(reason(detachRefusal(volume(), {}, undefined))).toBe("volume_state");
  });
  it("does not find an attachment to another instance or device", () => {
    expect(detachRefusal(attached(), { instanceId: "i-2" }, "running")).toMatchObject({ code: "NOT_FOUND" });
    expect(detachRefusal(attached(), { device: "/dev/sdg" }, "running")?.message).toMatch(
      /device '\/dev\/sdg'/,
    );
  });
  it("refuses an attachment still in motion", () => {
    expect(reason(detachRefusal(attached({ state: "attaching" }), {}, "running"))).toBe("volume_state");
  });
  it("keeps a root volume on an instance until it is stopped", () => {
    const root = attached({ device: ROOT_DEVICE });
    expect(detachRefusal(root, {}, "running")).toMatchObject({ code: "CONFLICT" });
    expect(detachRefusal(root, {}, "stopped")).toBeUndefined();
  });
});

describe("deleteRefusal", () => {
  it("deletes an available volume, and takes one already deleting as no refusal", () => {
    expect(deleteRefusal(volume())).toBeUndefined();
    expect(deleteRefusal(volume({ state: "deleting" }))).toBeUndefined();
  });
  it("refuses an attached volume and one in another state", () => {
    expect(reason(deleteRefusal(attached()))).toBe("volume_in_use");
    expect(reason(deleteRefusal(volume({ state: "creating" })))).toBe("volume_state");
  });
});
