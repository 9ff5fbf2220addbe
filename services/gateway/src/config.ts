import { baseConfig, duration, envBoolean, port } from "@cloudsim/shared";
import { z } from "zod";

export const gatewayConfig = baseConfig.extend({
  PORT: port(8080),
  HOST: z.string().default("0.0.0.0"),
  BODY_LIMIT: z.coerce.number().int().min(1024).max(10_485_760).default(65_536),
  /** Public base URL for the OpenAPI servers list; empty means relative. */
  PUBLIC_URL: z.string().default(""),
  /** The key that manages tenants and keys (/admin/*) and sees every tenant; empty: no admin. */
  ADMIN_API_KEY: z
    .string()
    .default("")
    .refine((v) => v === "" || v.length >= 16, "at least 16 characters"),
  /** false: a request without a key acts as tenant `default` (for local play). */
  AUTH_REQUIRED: envBoolean(true),
  /** How long a resolved key is trusted without asking lifecycle again (revocations also arrive at once). */
  AUTH_CACHE_TTL: duration("2s"),
  /** How many resolved keys each cache (REST and EC2) holds; the least recently used go first. */
  AUTH_CACHE_SIZE: z.coerce.number().int().min(1).max(10_000_000).default(10_000),
  /**
   * Failed authentications per minute per client address (a token bucket of this size); past it the
   * address is refused before its key is resolved. 0 turns the limit off.
   */
  AUTH_FAILURES_PER_MINUTE: z.coerce.number().int().min(0).max(1_000_000).default(60),
  /** Requests per minute per API key (a token bucket of this size); 0 turns the limit off. */
  RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(0).max(1_000_000).default(600),
  /**
   * The passphrase API keys are sealed with (AES-256-GCM) so the EC2 API can check SigV4
   * signatures made with them; empty: ADMIN_API_KEY's. Every gateway replica needs the same one.
   */
  AWS_SECRETS_KEY: z
    .string()
    .default("")
    .refine((v) => v === "" || v.length >= 16, "at least 16 characters"),
  /** How long DescribeInstances still shows a terminated instance. */
  EC2_TERMINATED_RETENTION: duration("1h", "s"),
  /** How long a running instance's status checks say `initializing` before `ok`. */
  EC2_STATUS_CHECK_DELAY: duration("5s", "s"),
  /** How long POST /admin/clock waits for the system to catch up with a move of the clock. */
  CLOCK_ADVANCE_TIMEOUT: duration("120s"),
  /** GET /events: open feeds per tenant (the admin key counts as one more); past it, 429. */
  EVENTS_MAX_STREAMS_PER_TENANT: z.coerce.number().int().min(1).max(10_000).default(20),
  /** GET /events: how often an idle feed sends a comment, so proxies keep it open. */
  EVENTS_HEARTBEAT: duration("15s"),
  /** GET /events: bytes a feed may have waiting for its client before the gateway stops reading for it. */
  EVENTS_CLIENT_BUFFER: z.coerce.number().int().min(1024).max(67_108_864).default(262_144),
  /** GET /events: how long a client may leave that much unread before it is cut off, with a last message saying so. */
  EVENTS_SLOW_CLIENT_TIMEOUT: duration("30s"),
  /** OpenStack face: how long a token from POST /identity/v3/auth/tokens is good for. */
  OPENSTACK_TOKEN_TTL: duration("1h"),
  /** OpenStack face: the most items one list answers (servers, flavors, images); a larger limit is cut to it. */
  OPENSTACK_MAX_PAGE: z.coerce.number().int().min(1).max(1000).default(1000),
});
export type GatewayConfig = z.infer<typeof gatewayConfig>;
