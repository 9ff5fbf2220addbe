import { baseConfig, databaseConfig, duration, port } from "@cloudsim/shared";
import { z } from "zod";

export const lifecycleConfig = baseConfig.extend(databaseConfig.shape).extend({
  PORT: port(8081),
  PROVISION_DELAY: duration("2s"),
  /** How often the durable timer looks for transitions that are due. */
  TIMER_INTERVAL: duration("100ms", "ms"),
  TIMER_BATCH: z.coerce.number().int().min(1).max(10_000).default(200),
});
export type LifecycleConfig = z.infer<typeof lifecycleConfig>;
