import { describe, expect, it } from "vitest";
import { wildcardRegex } from "./wildcards.ts";

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
