import { createHash, timingSafeEqual } from "node:crypto";
import { type Bus, DEFAULT_TENANT, tenants } from "@cloudsim/shared";
import type { FastifyRequest } from "fastify";
import { LRUCache } from "lru-cache";
import { type Caller, type KeyCacheConfig, revocableKeys, tenantKeyLookUp } from "../auth.ts";
import type { GatewayConfig } from "../config.ts";
import { unauthorized } from "./errors.ts";
import { looksLikeToken, openToken, sealToken, type TokenClaims, tokenKeyFrom } from "./tokens.ts";

export type OsAuthConfig = KeyCacheConfig &
  Pick<
    GatewayConfig,
    "ADMIN_API_KEY" | "AUTH_REQUIRED" | "AUTH_FAILURES_PER_MINUTE" | "AWS_SECRETS_KEY" | "OPENSTACK_TOKEN_TTL"
  >;

/** A caller and what a token for it seals: its key's hash (`admin`, or "" for nobody). */
export interface Identity {
  caller: Caller;
  key: string;
}

/** The claim of the admin key in a token. */
const ADMIN_CLAIM = "admin";
/** The most tenants read to find one's name (tenant_list pages of 100). */
const MAX_TENANT_PAGES = 50;

const hashOf = (text: string) => createHash("sha256").update(text).digest();

/**
 * Who an OpenStack request is: an API key (as a password, an application credential's secret, an
 * OS_TOKEN or an X-Auth-Token), or a token this face issued for one, which is checked on every call
 * (sealed, unexpired, and its key not revoked). With AUTH_REQUIRED=false unknown credentials and
 * none act as tenant `default`.
 */
export function openstackAuthenticator(bus: Bus, config: OsAuthConfig) {
  const tokenKey = tokenKeyFrom(config.AWS_SECRETS_KEY || config.ADMIN_API_KEY || null);
  const adminHash = config.ADMIN_API_KEY ? hashOf(config.ADMIN_API_KEY) : null;
  const failuresPerMinute = config.AUTH_REQUIRED ? config.AUTH_FAILURES_PER_MINUTE : 0;
  const { keys, close } = revocableKeys(bus, config, failuresPerMinute, tenantKeyLookUp(bus), (hash) => hash);
  const names = new LRUCache<string, string>({ max: 10_000, ttl: 60_000 });

  const anonymous = (request: FastifyRequest): Identity => ({
    caller: { tenantId: DEFAULT_TENANT, keyId: `anonymous:${request.ip}`, admin: false },
    key: "",
  });

  /** The identity of a key's hash (hex), or of the admin claim; null when it is no key. */
  const byHash = async (hash: string, request: FastifyRequest): Promise<Identity | null> => {
    if (hash === ADMIN_CLAIM)
      return adminHash ? { caller: { tenantId: null, keyId: "admin", admin: true }, key: ADMIN_CLAIM } : null;
    if (!/^[0-9a-f]{64}$/.test(hash)) return null;
    const caller = await keys.resolve(hash, request);
    return caller ? { caller, key: hash } : null;
  };

  /** The identity of an API key itself; with AUTH_REQUIRED=false an unknown one is `default`. */
  const byKey = async (key: string, request: FastifyRequest): Promise<Identity | null> => {
    if (key.length === 0 || key.length > 512) return config.AUTH_REQUIRED ? null : anonymous(request);
    const digest = hashOf(key);
    if (adminHash && timingSafeEqual(digest, adminHash)) return byHash(ADMIN_CLAIM, request);
    const found = await byHash(digest.toString("hex"), request);
    return found ?? (config.AUTH_REQUIRED ? null : anonymous(request));
  };

  /** The identity of a token this face issued, or null (altered, another key's, expired, revoked). */
  const byToken = async (token: string, request: FastifyRequest): Promise<Identity | null> => {
    // real time: tokens expire by the machine's clock, as Keystone's do.
    const claims = openToken(token, tokenKey, Date.now());
    if (!claims) return null;
    if (claims.key === "") return config.AUTH_REQUIRED ? null : anonymous(request);
    return byHash(claims.key, request);
  };

  /** An X-Auth-Token or OS_TOKEN: a token of ours, or an API key. */
  const byTokenOrKey = (text: string, request: FastifyRequest) =>
    looksLikeToken(text) ? byToken(text, request) : byKey(text, request);

  /** The caller of a compute or image request (X-Auth-Token); 401 without a good one. */
  const authenticate = async (request: FastifyRequest): Promise<Identity> => {
    const header = request.headers["x-auth-token"];
    const text = Array.isArray(header) ? header[0] : header;
    if (text === undefined || text === "") {
      if (config.AUTH_REQUIRED) throw unauthorized();
      return anonymous(request);
    }
    const found = await byTokenOrKey(text.trim(), request);
    if (!found) throw unauthorized();
    return found;
  };

  /** A new token for `identity`. */
  const issue = (identity: Identity, methods: string[]): { token: string; claims: TokenClaims } => {
    // real time: tokens expire by the machine's clock, as Keystone's do.
    const issuedAt = Date.now();
    const claims = { key: identity.key, methods, issuedAt, expiresAt: issuedAt + config.OPENSTACK_TOKEN_TTL };
    return { token: sealToken(claims, tokenKey), claims };
  };

  /** The claims of a token (for GET /auth/tokens), or null. */
  // real time: tokens expire by the machine's clock, as Keystone's do.
  const claimsOf = (token: string): TokenClaims | null => openToken(token, tokenKey, Date.now());

  /** A tenant's name (the Keystone user and project name); its id when it cannot be found. */
  const tenantName = async (tenantId: string, requestId: string): Promise<string> => {
    const cached = names.get(tenantId);
    if (cached) return cached;
    let cursor: string | undefined;
    for (let page = 0; page < MAX_TENANT_PAGES; page++) {
      const found = await bus.request(tenants.list, { limit: 100, cursor }, { requestId });
      for (const t of found.items) names.set(t.id, t.name);
      const match = found.items.find((t) => t.id === tenantId);
      if (match) return match.name;
      if (!found.next_cursor) break;
      cursor = found.next_cursor;
    }
    return tenantId;
  };

  return {
    authenticate,
    byKey,
    byTokenOrKey,
    issue,
    claimsOf,
    tenantName,
    close,
  };
}

export type OpenStackAuthenticator = ReturnType<typeof openstackAuthenticator>;
