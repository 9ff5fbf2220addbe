import { baseConfig, databaseConfig, outboxConfig, port } from "@cloudsim/shared";
import type { z } from "zod";

export const billingConfig = baseConfig
  .extend(databaseConfig.shape)
  .extend(outboxConfig.shape)
  .extend({
    PORT: port(8083),
  });
export type BillingConfig = z.infer<typeof billingConfig>;
