import { describe, expect, it } from "vitest";
import { matchesFilters, wildcardRegex, withTagFields } from "./wildcards.ts";

const matches = (pattern: string, text: string) => new RegExp(wildcardRegex(pattern), "s").test(text);

describe("wildcardRegex", () => {
  it("reads * as any run and ? as zero or one character", () => {
    expect(matches("web-*", "web-1")).toBe(true);
    expect(matches("web-*", "db-1")).toBe(false);
    expect(matches("t2.?icro", "t2.micro")).toBe(true);
    expect(matches("t2.?micro", "t2.micro")).toBe(true);
    expect(matches("a?c", "abbc")).toBe(false);
  });
  it("matches the whole value, literally otherwise", () => {
    expect(matches("10.0.0.1", "10.0.0.12")).toBe(false);
    expect(matches("10.0.0.1", "10a0b0c1")).toBe(false);
    expect(matches("(a|b)+[x]", "(a|b)+[x]")).toBe(true);
    expect(matches("$^{}", "$^{}")).toBe(true);
  });
  it("takes an escaped wildcard literally", () => {
    expect(matches("a\\*", "a*")).toBe(true);
    expect(matches("a\\*", "ab")).toBe(false);
    expect(matches("a\\?", "a?")).toBe(true);
  });
});

describe("matchesFilters", () => {
  const fields = { "vpc-id": "vpc-1", "group-name": ["web", "db"], "owner-id": undefined };
  it("passes an item with every filter matched by any of its values, against any of its fields", () => {
    expect(matchesFilters([], fields)).toBe(true);
    expect(matchesFilters([{ name: "vpc-id", values: ["vpc-2", "vpc-*"] }], fields)).toBe(true);
    expect(
      matchesFilters(
        [
          { name: "vpc-id", values: ["vpc-1"] },
          { name: "group-name", values: ["d?b", "db"] },
        ],
        fields,
      ),
    ).toBe(true);
  });
  it("fails an item when one filter matches none of its values, or names a field it lacks", () => {
    expect(
      matchesFilters(
        [
          { name: "vpc-id", values: ["vpc-1"] },
          { name: "group-name", values: ["cache"] },
        ],
        fields,
      ),
    ).toBe(false);
    expect(matchesFilters([{ name: "owner-id", values: ["*"] }], fields)).toBe(false);
    expect(matchesFilters([{ name: "toString", values: ["*"] }], fields)).toBe(false);
  });
});

describe("withTagFields", () => {
  it("adds the tag keys and each tag's value under tag:<key>", () => {
    const tagged = withTagFields({ "vpc-id": "vpc-1" }, { Name: "web", env: "" });
    expect(tagged).toEqual({
      "vpc-id": "vpc-1",
      "tag-key": ["Name", "env"],
      "tag:Name": "web",
      "tag:env": "",
    });
    expect(matchesFilters([{ name: "tag:Name", values: ["w*"] }], tagged)).toBe(true);
    expect(matchesFilters([{ name: "tag-key", values: ["env"] }], withTagFields({}, {}))).toBe(false);
  });
});
