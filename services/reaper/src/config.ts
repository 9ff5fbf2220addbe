import { baseConfig, databaseConfig, port } from "@cloudsim/shared";
import type { z } from "zod";

export const reaperConfig = baseConfig.extend(databaseConfig.shape).extend({
  PORT: port(8084),
});
export type ReaperConfig = z.infer<typeof reaperConfig>;
