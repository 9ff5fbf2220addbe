import { describe, expect, it } from "vitest";
import { nextLabels } from "./labels.ts";

describe("nextLabels", () => {
  it("replaces, removes and adds, keeping each label once, sorted", () => {
    expect(nextLabels(["b", "a"], { replace: ["z", "y", "z"], add: [], remove: [] })).toEqual(["y", "z"]);
    expect(nextLabels(["a", "b"], { add: ["c", "a"], remove: ["b"] })).toEqual(["a", "c"]);
    expect(nextLabels(["a", "b"], { add: [], remove: null })).toEqual([]);
  });
});
