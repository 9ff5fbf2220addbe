import { describe, expect, it } from "vitest";
import { type DueVolume, dueMove } from "./volume-states.ts";

const volume = (over: Partial<DueVolume>): DueVolume => ({
  state: "available",
  attachment: null,
  instanceEnded: false,
  deleteOnTermination: false,
  ...over,
});

describe("dueMove", () => {
  it.each([
    ["a new volume becomes available", volume({ state: "creating" }), ["available", null, null]],
    [
      "a root volume becomes attached",
      volume({ state: "creating", attachment: "attaching" }),
      ["in-use", "attached", null],
    ],
    [
      "an attachment completes",
      volume({ state: "in-use", attachment: "attaching" }),
      ["in-use", "attached", null],
    ],
    [
      "a detachment completes",
      volume({ state: "in-use", attachment: "detaching" }),
      ["available", null, null],
    ],
    ["a deletion completes", volume({ state: "deleting" }), ["deleted", null, null]],
  ] as const)("%s", (_what, due, [state, attachment, delay]) => {
    expect(dueMove(due)).toEqual({ state, attachment, delay });
  });

  it("deletes what an ended instance held with DeleteOnTermination, and detaches the rest", () => {
    const held = { state: "in-use", attachment: "attached", instanceEnded: true } as const;
    expect(dueMove(volume({ ...held, deleteOnTermination: true }))).toEqual({
      state: "deleting",
      attachment: null,
      delay: "VOLUME_DELETE_DELAY",
    });
    expect(dueMove(volume(held))).toEqual({
      state: "in-use",
      attachment: "detaching",
      delay: "VOLUME_DETACH_DELAY",
    });
  });

  it("releases a root volume whose launch failed before it was attached", () => {
    const creating = volume({ state: "creating", attachment: "attaching", instanceEnded: true });
    expect(dueMove({ ...creating, deleteOnTermination: true }).state).toBe("deleting");
  });

  it("lets a detachment already under way finish when the instance ends", () => {
    expect(dueMove(volume({ state: "in-use", attachment: "detaching", instanceEnded: true }))).toEqual({
      state: "available",
      attachment: null,
      delay: null,
    });
  });

  it("leaves a volume with nothing timed as it is", () => {
    expect(dueMove(volume({ state: "available" }))).toEqual({
      state: "available",
      attachment: null,
      delay: null,
    });
  });
});
