import { baseConfig, databaseConfig, duration, outboxConfig, port } from "@cloudsim/shared";
import { parseCidr } from "@cloudsim/shared/cidr";
import { z } from "zod";
import { DEFAULT_PUBLIC_POOL, parsePools } from "./domain/pools.ts";

export const ipamConfig = baseConfig
  .extend(databaseConfig.shape)
  .extend(outboxConfig.shape)
  .extend({
    PORT: port(8082),
    IPAM_POOLS: z
      .string()
      .default("")
      .transform((text, ctx) => {
        try {
          return parsePools(text);
        } catch (err) {
          ctx.addIssue({ code: "custom", message: (err as Error).message });
          return z.NEVER;
        }
      }),
    /** The public addresses Elastic IPs are allocated from, one pool for every region. */
    IPAM_PUBLIC_POOL: z
      .string()
      .default(DEFAULT_PUBLIC_POOL)
      .transform((text, ctx) => {
        try {
          return parseCidr(text);
        } catch (err) {
          ctx.addIssue({ code: "custom", message: (err as Error).message });
          return z.NEVER;
        }
      }),
    IP_REUSE_COOLDOWN: duration("5s"),
    /** An address whose server no event has shown to exist after this is checked with lifecycle. */
    IP_CONFIRM_TIMEOUT: duration("60s"),
    IP_RECONCILE_INTERVAL: duration("10s"),
  });
export type IpamConfig = z.infer<typeof ipamConfig>;
