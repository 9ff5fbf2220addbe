import { describe, expect, it } from "vitest";
import { openToken, sealToken, TOKEN_PREFIX, tokenKeyFrom } from "./tokens.ts";

const key = tokenKeyFrom("a passphrase of enough length");
const claims = { key: "a".repeat(64), methods: ["password"], issuedAt: 1_000, expiresAt: 5_000 };

describe("OpenStack tokens", () => {
  it("open to their claims until they expire", () => {
    const token = sealToken(claims, key);
    expect(token.startsWith(TOKEN_PREFIX)).toBe(true);
    expect(openToken(token, key, 4_999)).toEqual(claims);
    expect(openToken(token, key, 5_000)).toBeNull();
  });

  it("are the same key on every replica with the passphrase, and nothing under another", () => {
    const token = sealToken(claims, key);
    expect(openToken(token, tokenKeyFrom("a passphrase of enough length"), 2_000)).toEqual(claims);
    expect(openToken(token, tokenKeyFrom("another passphrase entirely"), 2_000)).toBeNull();
    expect(openToken(token, tokenKeyFrom(null), 2_000)).toBeNull();
  });

  it("refuse altered, foreign or malformed tokens", () => {
    const token = sealToken(claims, key);
    const last = token.at(-1) === "A" ? "B" : "A";
    expect(openToken(token.slice(0, -1) + last, key, 2_000)).toBeNull();
    expect(openToken("csk_an-api-key", key, 2_000)).toBeNull();
    expect(openToken(`${TOKEN_PREFIX}v1.x.y`, key, 2_000)).toBeNull();
    expect(openToken(TOKEN_PREFIX + "x".repeat(5000), key, 2_000)).toBeNull();
  });
});
