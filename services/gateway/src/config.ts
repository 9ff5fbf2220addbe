import { baseConfig, port } from "@cloudsim/shared";
import { z } from "zod";

export const gatewayConfig = baseConfig.extend({
  PORT: port(8080),
  HOST: z.string().default("0.0.0.0"),
  BODY_LIMIT: z.coerce.number().int().min(1024).max(10_485_760).default(65_536),
  /** Public base URL for the OpenAPI servers list; empty means relative. */
  PUBLIC_URL: z.string().default(""),
});
export type GatewayConfig = z.infer<typeof gatewayConfig>;
