import { baseConfig, databaseConfig, duration, envBoolean, port } from "@cloudsim/shared";
import { z } from "zod";

export const reaperConfig = baseConfig.extend(databaseConfig.shape).extend({
  PORT: port(8084),
  /** Stopped for longer than this is idle; a bare number means minutes. */
  IDLE_TIMEOUT: duration("30m", "m"),
  REAPER_INTERVAL: duration("60s"),
  REAPER_DRY_RUN: envBoolean(false),
  /** A server with this tag (key=value) is never reaped. */
  REAPER_EXEMPT_TAG: z
    .string()
    .regex(/^[^=]+=.*$/, "expected key=value")
    .default("reaper.exempt=true")
    .transform((text) => {
      const at = text.indexOf("=");
      return { key: text.slice(0, at), value: text.slice(at + 1) };
    }),
  REAPER_BATCH: z.coerce.number().int().min(1).max(100_000).default(10_000),
  REAPER_CONCURRENCY: z.coerce.number().int().min(1).max(500).default(20),
});
export type ReaperConfig = z.infer<typeof reaperConfig>;
