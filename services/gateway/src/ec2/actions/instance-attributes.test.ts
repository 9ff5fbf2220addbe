import { describe, expect, it } from "vitest";
import { cpuCreditsOf } from "./instance-attributes.ts";

describe("cpuCreditsOf", () => {
  it.each([
    ["t2.micro", "standard"],
    ["t3.micro", "unlimited"],
    ["t3a.large", "unlimited"],
    ["t4g.nano", "unlimited"],
    ["m5.large", "standard"],
  ])("%s launches %s", (type, credits) => {
    expect(cpuCreditsOf(type)).toBe(credits);
  });
});
