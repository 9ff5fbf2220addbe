import { hkdfSync, randomBytes } from "node:crypto";
import { openSecret, sealSecret } from "../ec2/secrets.ts";

/**
 * Keystone tokens without a token store: a token is what it stands for, sealed (AES-256-GCM) under
 * a key every gateway replica derives from the same passphrase, so any replica can check it.
 */
export const TOKEN_PREFIX = "cso_";

/** What a token stands for. */
export interface TokenClaims {
  /** The SHA-256 (hex) of the API key it was issued for; `admin` for the admin key; "" for nobody (AUTH_REQUIRED=false). */
  key: string;
  /** The auth methods that issued it (Keystone's token.methods). */
  methods: string[];
  /** Milliseconds since the epoch. */
  issuedAt: number;
  expiresAt: number;
}

/** The token sealing key from the passphrase (HKDF-SHA256, its own salt); random when there is none. */
export function tokenKeyFrom(passphrase: string | null): Buffer {
  if (!passphrase) return randomBytes(32);
  return Buffer.from(hkdfSync("sha256", passphrase, "cloudsim-openstack-tokens", "", 32));
}

export function sealToken(claims: TokenClaims, key: Buffer): string {
  const payload = JSON.stringify({
    k: claims.key,
    m: claims.methods,
    i: claims.issuedAt,
    e: claims.expiresAt,
  });
  return TOKEN_PREFIX + sealSecret(payload, key);
}

export const looksLikeToken = (text: string) => text.startsWith(TOKEN_PREFIX);

/** The claims of a token that is ours, unaltered and not expired at `now`; null otherwise. */
export function openToken(token: string, key: Buffer, now: number): TokenClaims | null {
  if (!looksLikeToken(token) || token.length > 2048) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(openSecret(token.slice(TOKEN_PREFIX.length), key));
  } catch {
    return null;
  }
  const p = parsed as { k?: unknown; m?: unknown; i?: unknown; e?: unknown };
  if (
    typeof p.k !== "string" ||
    !Array.isArray(p.m) ||
    !p.m.every((m) => typeof m === "string") ||
    typeof p.i !== "number" ||
    typeof p.e !== "number"
  )
    return null;
  if (p.e <= now) return null;
  return { key: p.k, methods: p.m as string[], issuedAt: p.i, expiresAt: p.e };
}
