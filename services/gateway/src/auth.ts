import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import {
  ALL_TENANTS,
  AppError,
  type Bus,
  DEFAULT_TENANT,
  keyRevokedSubject,
  tenants,
} from "@cloudsim/shared";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { LRUCache } from "lru-cache";
import type { GatewayConfig } from "./config.ts";
import { isDocsPath } from "./docs.ts";
import { isEc2Request } from "./ec2/face.ts";
import { isOpenStackPath } from "./openstack/face.ts";
import { isConsolePath } from "./routes/console.ts";

/** Who is calling: a tenant's key, the admin key, or (AUTH_REQUIRED=false) nobody, as tenant `default`. */
export interface Caller {
  /** The tenant whose servers the request sees; null for the admin key, which sees every tenant. */
  tenantId: string | null;
  /** The key (its id), the rate limit's bucket. */
  keyId: string;
  admin: boolean;
}

declare module "fastify" {
  interface FastifyRequest {
    caller: Caller;
  }
}

export type KeyCacheConfig = Pick<GatewayConfig, "AUTH_CACHE_TTL" | "AUTH_CACHE_SIZE">;

export type AuthConfig = KeyCacheConfig &
  Pick<
    GatewayConfig,
    "ADMIN_API_KEY" | "AUTH_REQUIRED" | "AUTH_FAILURES_PER_MINUTE" | "RATE_LIMIT_PER_MINUTE"
  >;

/** A new API key: `csk_` and 32 random bytes in base64url. */
export const newApiKey = () => `csk_${randomBytes(32).toString("base64url")}`;
export const hashKey = (key: string) => createHash("sha256").update(key).digest("hex");

/** The tenant every request acts for on NATS: the admin key's is every tenant. */
export const scopeOf = (request: FastifyRequest) => request.caller.tenantId ?? ALL_TENANTS;
/** The owner of what a request creates: the admin's servers belong to `default`. */
export const ownerOf = (request: FastifyRequest) => request.caller.tenantId ?? DEFAULT_TENANT;

export function requireAdmin(request: FastifyRequest) {
  if (!request.caller.admin) throw new AppError("FORBIDDEN", "this route needs the admin key");
}

const publicPaths = new Set(["/healthz", "/readyz", "/metrics"]);
const isPublic = (url: string) => {
  const path = url.split("?")[0] ?? url;
  return publicPaths.has(path) || isDocsPath(path) || isConsolePath(path);
};

const unauthorized = (message: string) => new AppError("UNAUTHORIZED", message);

/** A token bucket per key: `perMinute` requests at once, refilled evenly over the minute. */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private readonly perMs: number;
  constructor(readonly perMinute: number) {
    this.perMs = perMinute / 60_000;
  }
  /** 0 when allowed; otherwise the seconds until one request would be. */
  // real time: a rate limit counts requests per real minute.
  take(key: string, now = Date.now()): number {
    if (this.perMinute <= 0) return 0;
    const bucket = this.refilled(key, now);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / this.perMs / 1000));
  }
  /** Gives back a token taken for a request that turned out not to count. */
  // real time: a rate limit counts requests per real minute.
  refund(key: string, now = Date.now()) {
    if (this.perMinute <= 0) return;
    const bucket = this.refilled(key, now);
    bucket.tokens = Math.min(this.perMinute, bucket.tokens + 1);
  }
  /** What is left of a key's bucket, and the seconds until it is full again. */
  // real time: a rate limit counts requests per real minute.
  headroom(key: string, now = Date.now()): { remaining: number; resetSeconds: number } {
    const bucket = this.buckets.get(key);
    const tokens = bucket ? this.tokensOf(bucket, now) : this.perMinute;
    return {
      remaining: Math.floor(tokens),
      resetSeconds: Math.ceil((this.perMinute - tokens) / this.perMs / 1000),
    };
  }
  private tokensOf(bucket: { tokens: number; at: number }, now: number) {
    return Math.min(this.perMinute, bucket.tokens + (now - bucket.at) * this.perMs);
  }
  private refilled(key: string, now: number) {
    const bucket = this.buckets.get(key) ?? { tokens: this.perMinute, at: now };
    bucket.tokens = this.tokensOf(bucket, now);
    bucket.at = now;
    if (this.buckets.size >= 100_000 && !this.buckets.has(key)) this.sweep(now);
    this.buckets.set(key, bucket);
    return bucket;
  }
  /** Drops the buckets that are full again (they would start full anyway). */
  private sweep(now: number) {
    for (const [key, b] of this.buckets)
      if (this.tokensOf(b, now) >= this.perMinute) this.buckets.delete(key);
  }
}

/**
 * Resolves keys for both faces, caching only keys that resolved (bad keys cannot evict good
 * ones). An address that keeps failing is refused (RATE_LIMITED) before it costs a round trip.
 */
export class KeyResolver<V extends {}> {
  // lru-cache reads a ttl of 0 as "forever", so AUTH_CACHE_TTL=0 means no cache at all.
  private readonly cache: LRUCache<string, V> | null;
  private readonly inFlight = new Map<string, Promise<V | null>>();
  private readonly failures: RateLimiter;
  constructor(
    config: KeyCacheConfig,
    failuresPerMinute: number,
    private readonly lookUp: (key: string, requestId: string) => Promise<V | null>,
  ) {
    this.cache =
      config.AUTH_CACHE_TTL > 0
        ? new LRUCache({ max: config.AUTH_CACHE_SIZE, ttl: config.AUTH_CACHE_TTL })
        : null;
    this.failures = new RateLimiter(failuresPerMinute);
  }

  /** What `key` resolves to, or null for a key that does not exist. */
  resolve(key: string, request: FastifyRequest): Promise<V | null> {
    const cached = this.cache?.get(key);
    if (cached) return Promise.resolve(cached);
    let pending = this.inFlight.get(key);
    if (!pending) {
      pending = this.resolveOnce(key, request).finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, pending);
    }
    return pending;
  }

  /** Forgets the cached keys whose value `matches` (a revoked key). */
  forget(matches: (key: string, value: V) => boolean) {
    if (!this.cache) return;
    for (const [key, value] of [...this.cache.entries()]) if (matches(key, value)) this.cache.delete(key);
  }

  private async resolveOnce(key: string, request: FastifyRequest): Promise<V | null> {
    const found = await this.guarded(request.ip, () => this.lookUp(key, String(request.id)));
    if (found) this.cache?.set(key, found);
    return found;
  }

  private async guarded(address: string, lookUp: () => Promise<V | null>): Promise<V | null> {
    const retryAfter = this.failures.take(address);
    if (retryAfter > 0) throw tooManyFailures(this.failures.perMinute, retryAfter);
    // Only a key that was not found counts; one found, or a lookup that failed, gives its token back.
    const found = await lookUp().catch((err: unknown) => {
      this.failures.refund(address);
      throw err;
    });
    if (found) this.failures.refund(address);
    return found;
  }
}

const tooManyFailures = (perMinute: number, retryAfter: number) =>
  new AppError(
    "RATE_LIMITED",
    `more than ${perMinute} failed authentications a minute from this address (AUTH_FAILURES_PER_MINUTE)`,
    { reason: "failed_authentications", limit_per_minute: perMinute, retry_after_seconds: retryAfter },
  );

/** A tenant's key looked up in lifecycle by its SHA-256 (hex): its caller, or null for no such key. */
export const tenantKeyLookUp =
  (bus: Bus) =>
  (hash: string, requestId: string): Promise<Caller | null> =>
    bus
      .request(tenants.authenticate, { key_hash: hash }, { requestId })
      .then((r): Caller => ({ tenantId: r.tenant_id, keyId: r.key_id, admin: false }))
      .catch((err: unknown) => {
        if (err instanceof AppError && err.code === "UNAUTHORIZED") return null;
        throw err;
      });

/**
 * A KeyResolver whose cache forgets a key as soon as lifecycle announces it revoked (its hash on
 * keyRevokedSubject); `hashOf` reads that hash from a cached entry. close() stops listening.
 */
export function revocableKeys<V extends {}>(
  bus: Bus,
  config: KeyCacheConfig,
  failuresPerMinute: number,
  lookUp: (key: string, requestId: string) => Promise<V | null>,
  hashOf: (key: string, value: V) => string,
) {
  const keys = new KeyResolver(config, failuresPerMinute, lookUp);
  const revoked = bus.nc.subscribe(bus.prefix + keyRevokedSubject, {
    callback: (err, msg) => {
      if (!err) keys.forget((key, value) => hashOf(key, value) === msg.string());
    },
  });
  return { keys, close: () => revoked.unsubscribe() };
}

/**
 * `Authorization: Bearer <key>` on every route but health, metrics and the docs: the admin key,
 * or a tenant's key that lifecycle resolves (by its SHA-256; the key itself never leaves the gateway).
 */
export function installAuth(app: FastifyInstance, bus: Bus, config: AuthConfig) {
  const adminHash = config.ADMIN_API_KEY ? createHash("sha256").update(config.ADMIN_API_KEY).digest() : null;
  const { keys, close } = revocableKeys(
    bus,
    config,
    config.AUTH_FAILURES_PER_MINUTE,
    tenantKeyLookUp(bus),
    (hash) => hash,
  );
  const limiter = new RateLimiter(config.RATE_LIMIT_PER_MINUTE);
  app.addHook("onClose", async () => close());

  const resolve = async (request: FastifyRequest): Promise<Caller> => {
    const header = request.headers.authorization;
    if (header === undefined) {
      if (!config.AUTH_REQUIRED)
        return { tenantId: DEFAULT_TENANT, keyId: `anonymous:${request.ip}`, admin: false };
      throw unauthorized("an API key is required: Authorization: Bearer <key>");
    }
    const match = /^Bearer +([\x21-\x7e]{1,512})\s*$/i.exec(header);
    if (!match?.[1]) throw unauthorized("the Authorization header must be: Bearer <key>");
    const digest = createHash("sha256").update(match[1]).digest();
    if (adminHash && timingSafeEqual(digest, adminHash))
      return { tenantId: null, keyId: "admin", admin: true };
    const caller = await keys.resolve(digest.toString("hex"), request);
    if (!caller) throw unauthorized("unknown or revoked API key");
    return caller;
  };

  /**
   * RATE_LIMITED once a caller's key has made its RATE_LIMIT_PER_MINUTE requests; every answer
   * says what is left in the `x-ratelimit-*` headers @fastify/rate-limit would send.
   */
  const limit = (caller: Caller, reply: FastifyReply) => {
    if (config.RATE_LIMIT_PER_MINUTE <= 0) return;
    const retryAfter = limiter.take(caller.keyId);
    const { remaining, resetSeconds } = limiter.headroom(caller.keyId);
    reply.header("x-ratelimit-limit", String(config.RATE_LIMIT_PER_MINUTE));
    reply.header("x-ratelimit-remaining", String(remaining));
    reply.header("x-ratelimit-reset", String(resetSeconds));
    if (retryAfter > 0) {
      reply.header("retry-after", String(retryAfter));
      throw new AppError("RATE_LIMITED", `more than ${config.RATE_LIMIT_PER_MINUTE} requests a minute`, {
        limit_per_minute: config.RATE_LIMIT_PER_MINUTE,
        retry_after_seconds: retryAfter,
      });
    }
  };

  app.decorateRequest("caller", null as unknown as Caller);
  app.addHook("onRequest", async (request, reply) => {
    // The EC2 face checks its own (signed) requests, once their body has arrived; the OpenStack
    // face its tokens.
    if (isPublic(request.url) || isEc2Request(request) || isOpenStackPath(request.url)) return;
    request.caller = await resolve(request);
    limit(request.caller, reply);
  });
  return { limit };
}
