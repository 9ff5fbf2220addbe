import {
  baseConfig,
  databaseConfig,
  defaultImages,
  duration,
  Image,
  outboxConfig,
  port,
} from "@cloudsim/shared";
import { z } from "zod";
import type { QuotaDefaults } from "./domain/quota.ts";

export const lifecycleConfig = baseConfig
  .extend(databaseConfig.shape)
  .extend(outboxConfig.shape)
  .extend({
    PORT: port(8081),
    PROVISION_DELAY: duration("2s"),
    START_DELAY: duration("1s"),
    STOP_DELAY: duration("1s"),
    REBOOT_DELAY: duration("1s"),
    TERMINATE_DELAY: duration("1s"),
    /** The volumes' timed states: creating, attaching, detaching, deleting (a root volume is ready with its instance). */
    VOLUME_CREATE_DELAY: duration("2s"),
    VOLUME_ATTACH_DELAY: duration("1s"),
    VOLUME_DETACH_DELAY: duration("1s"),
    VOLUME_DELETE_DELAY: duration("1s"),
    /** Share of provisions that end in `error`, from 0 to 1. */
    PROVISION_FAILURE_RATE: z.coerce.number().min(0).max(1).default(0),
    /** How often the durable timer looks for transitions that are due. */
    TIMER_INTERVAL: duration("100ms", "ms"),
    TIMER_BATCH: z.coerce.number().int().min(1).max(10_000).default(200),
    /** How long Idempotency-Keys and ClientTokens are kept (db/retention.ts); EC2 keeps client tokens 24 h at least. */
    IDEMPOTENCY_KEY_RETENTION: duration("24h").refine((ms) => ms >= 86_400_000, {
      message: "must be at least 24h, as EC2's client tokens",
    }),
    /** A tenant's limits unless the admin set its own: servers not terminated, and vCPUs running. */
    TENANT_MAX_SERVERS: z.coerce.number().int().min(0).max(1_000_000).default(100),
    TENANT_MAX_VCPUS: z.coerce.number().int().min(0).max(1_000_000).default(200),
    /**
     * Servers (not terminated, not in error) each availability zone holds at most: a launch into
     * a full zone is EXHAUSTED (EC2: InsufficientInstanceCapacity). 0: no limit.
     */
    ZONE_CAPACITY: z.coerce.number().int().min(0).max(10_000_000).default(0),
    /** The machine images (a JSON array of {id, name, description, architecture, platform, created_at}). */
    IMAGES: z
      .string()
      .transform((text, ctx) => {
        try {
          return JSON.parse(text) as unknown;
        } catch {
          ctx.addIssue({ code: "custom", message: "IMAGES must be a JSON array of images" });
          return z.NEVER;
        }
      })
      .pipe(z.array(Image).min(1).max(1000))
      .optional()
      .transform((images) => images ?? [...defaultImages]),
  });
export type LifecycleConfig = z.infer<typeof lifecycleConfig>;

/** The limits of a tenant that has none of its own. */
export const quotaDefaults = (config: LifecycleConfig): QuotaDefaults => ({
  maxServers: config.TENANT_MAX_SERVERS,
  maxVcpus: config.TENANT_MAX_VCPUS,
});
