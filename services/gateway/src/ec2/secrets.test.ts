import { describe, expect, it } from "vitest";
import { masterKeyFrom, openSecret, sealSecret } from "./secrets.ts";

const key = masterKeyFrom("a passphrase of some length");
const SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

/** The sealed text with one character of part `part` (0 version, 1 iv, 2 payload) changed. */
function tamper(sealed: string, part: number, at = 0): string {
  const parts = sealed.split(".");
  const text = parts[part] ?? "";
  const swapped = text[at] === "A" ? "B" : "A";
  parts[part] = text.slice(0, at) + swapped + text.slice(at + 1);
  return parts.join(".");
}

describe("masterKeyFrom", () => {
  it("derives 32 bytes, the same for the same passphrase and different for another", () => {
    expect(key).toHaveLength(32);
    expect(masterKeyFrom("a passphrase of some length").equals(key)).toBe(true);
    expect(masterKeyFrom("a passphrase of some lengtH").equals(key)).toBe(false);
  });

  it("takes 16 characters and refuses fewer", () => {
    expect(masterKeyFrom("0123456789abcdef")).toHaveLength(32);
    expect(() => masterKeyFrom("0123456789abcde")).toThrow(/at least 16 characters/);
  });
});

describe("sealSecret and openSecret", () => {
  it("round-trip a secret, without showing it", () => {
    const sealed = sealSecret(SECRET, key);
    expect(sealed).toMatch(/^v1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+$/);
    expect(sealed).not.toContain(SECRET);
    expect(openSecret(sealed, key)).toBe(SECRET);
  });

  it.each(["", "é 😀", "x".repeat(1000)])("round-trip %j", (secret) => {
    expect(openSecret(sealSecret(secret, key), key)).toBe(secret);
  });

  it("use a fresh IV each time", () => {
    const sealed = new Set(Array.from({ length: 20 }, () => sealSecret(SECRET, key)));
    expect(sealed.size).toBe(20);
    expect(new Set([...sealed].map((s) => s.split(".")[1])).size).toBe(20);
  });

  it("refuse an altered IV, ciphertext or tag", () => {
    const sealed = sealSecret(SECRET, key);
    const payloadLength = (sealed.split(".")[2] ?? "").length;
    expect(() => openSecret(tamper(sealed, 1), key)).toThrow(/altered/);
    expect(() => openSecret(tamper(sealed, 2, 0), key)).toThrow(/altered/);
    expect(() => openSecret(tamper(sealed, 2, payloadLength - 2), key)).toThrow(/altered/);
  });

  it("refuse another key", () => {
    expect(() =>
      openSecret(sealSecret(SECRET, key), masterKeyFrom("another passphrase, long enough")),
    ).toThrow(/altered or sealed with another key/);
  });

  it.each([
    ["another version", (s: string) => s.replace(/^v1/, "v2")],
    ["a missing part", (s: string) => s.split(".").slice(0, 2).join(".")],
    ["an extra part", (s: string) => `${s}.x`],
    ["a short IV", (s: string) => s.replace(/^v1\.[^.]{4}/, "v1.")],
    ["a payload shorter than a tag", (s: string) => s.replace(/\.[^.]+$/, ".AAAA")],
    ["characters that are not base64url", (s: string) => s.replace(/\.[^.]{2}/, ".+/")],
  ])("refuse %s", (_, change) => {
    expect(() => openSecret(change(sealSecret(SECRET, key)), key)).toThrow(/not a sealed secret/);
  });

  it("refuse a master key that is not 32 bytes", () => {
    expect(() => sealSecret(SECRET, Buffer.alloc(16))).toThrow(/32 bytes/);
    expect(() => openSecret(sealSecret(SECRET, key), Buffer.alloc(31))).toThrow(/32 bytes/);
  });
});
