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
import type { GatewayConfig } from "./config.ts";
import { isDocsPath } from "./docs.ts";
import { isEc2Request } from "./ec2/face.ts";

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

export type AuthConfig = Pick<
  GatewayConfig,
  "ADMIN_API_KEY" | "AUTH_REQUIRED" | "AUTH_CACHE_TTL" | "RATE_LIMIT_PER_MINUTE"
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
  return publicPaths.has(path) || isDocsPath(path);
};

const unauthorized = (message: string) => new AppError("UNAUTHORIZED", message);

/** The key hash → caller cache, with a TTL and a size bound; a revocation drops its entry at once. */
class KeyCache {
  private readonly entries = new Map<string, { caller: Caller | null; expires: number }>();
  constructor(private readonly ttlMs: number) {}
  get(hash: string): Caller | null | undefined {
    const entry = this.entries.get(hash);
    if (!entry) return undefined;
    if (entry.expires <= Date.now()) {
      this.entries.delete(hash);
      return undefined;
    }
    return entry.caller;
  }
  set(hash: string, caller: Caller | null) {
    if (this.ttlMs <= 0) return;
    if (this.entries.size >= 10_000) this.entries.clear();
    this.entries.set(hash, { caller, expires: Date.now() + this.ttlMs });
  }
  delete(hash: string) {
    this.entries.delete(hash);
  }
}

/** A token bucket per key: `perMinute` requests at once, refilled evenly over the minute. */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  constructor(private readonly perMinute: number) {}
  /** 0 when allowed; otherwise the seconds until one request would be. */
  take(key: string, now = Date.now()): number {
    if (this.perMinute <= 0) return 0;
    const perMs = this.perMinute / 60_000;
    const bucket = this.buckets.get(key) ?? { tokens: this.perMinute, at: now };
    bucket.tokens = Math.min(this.perMinute, bucket.tokens + (now - bucket.at) * perMs);
    bucket.at = now;
    if (this.buckets.size >= 100_000 && !this.buckets.has(key)) this.sweep(now);
    this.buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / perMs / 1000));
  }
  /** Drops the buckets that are full again (they would start full anyway). */
  private sweep(now: number) {
    for (const [key, b] of this.buckets) {
      if (b.tokens + (now - b.at) * (this.perMinute / 60_000) >= this.perMinute) this.buckets.delete(key);
    }
  }
}

/**
 * `Authorization: Bearer <key>` on every route but health, metrics and the docs: the admin key,
 * or a tenant's key that lifecycle resolves (by its SHA-256; the key itself never leaves the gateway).
 */
export function installAuth(app: FastifyInstance, bus: Bus, config: AuthConfig) {
  const adminHash = config.ADMIN_API_KEY ? createHash("sha256").update(config.ADMIN_API_KEY).digest() : null;
  const cache = new KeyCache(config.AUTH_CACHE_TTL);
  const limiter = new RateLimiter(config.RATE_LIMIT_PER_MINUTE);
  const revoked = bus.nc.subscribe(bus.prefix + keyRevokedSubject, {
    callback: (err, msg) => {
      if (!err) cache.delete(msg.string());
    },
  });
  app.addHook("onClose", async () => revoked.unsubscribe());

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
    const hash = digest.toString("hex");
    let caller = cache.get(hash);
    if (caller === undefined) {
      caller = await bus
        .request(tenants.authenticate, { key_hash: hash }, { requestId: request.id })
        .then((r): Caller => ({ tenantId: r.tenant_id, keyId: r.key_id, admin: false }))
        .catch((err: unknown) => {
          if (err instanceof AppError && err.code === "UNAUTHORIZED") return null;
          throw err;
        });
      cache.set(hash, caller);
    }
    if (!caller) throw unauthorized("unknown or revoked API key");
    return caller;
  };

  /** RATE_LIMITED once a caller's key has made its RATE_LIMIT_PER_MINUTE requests. */
  const limit = (caller: Caller, reply: FastifyReply) => {
    const retryAfter = limiter.take(caller.keyId);
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
    // The EC2 face checks its own (signed) requests, once their body has arrived.
    if (isPublic(request.url) || isEc2Request(request)) return;
    request.caller = await resolve(request);
    limit(request.caller, reply);
  });
  return { limit };
}
