import { readFileSync } from "node:fs";
import { errorCodes } from "@cloudsim/shared";
import { describe, expect, it } from "vitest";
import { statusOf } from "./errors.ts";

const readme = readFileSync(new URL("../../../README.md", import.meta.url), "utf8");

describe("the error catalogue", () => {
  it.each(errorCodes)("maps %s to an HTTP error status", (code) => {
    expect(statusOf(code)).toBeGreaterThanOrEqual(400);
    expect(statusOf(code)).toBeLessThan(600);
  });
  it.each(errorCodes)("documents %s in the README's error table with its status", (code) => {
    expect(readme).toMatch(new RegExp(`^\\|\\s*${code}\\s*\\|\\s*${statusOf(code)}\\s*\\|`, "m"));
  });
});
