import { z } from "zod";
import { Region } from "./catalogue.ts";
import { defineCommand } from "./command.ts";

export const Pool = z
  .object({
    region: Region,
    cidr: z.string(),
    size: z
      .number()
      .int()
      .describe("Addresses that can be handed out (network, gateway and broadcast excluded)"),
    used: z.number().int(),
    cooling_down: z
      .number()
      .int()
      .describe("Released addresses not handed out again until IP_REUSE_COOLDOWN has passed"),
    free: z.number().int().describe("Addresses a provision can take now"),
  })
  .meta({ id: "Pool" });
export type Pool = z.infer<typeof Pool>;

export const Allocation = z.object({ server_id: z.uuid(), region: Region, address: z.string() });

/** Commands answered by ipam. */
export const ipam = {
  allocate: defineCommand("ipam", "allocate", {
    request: z.object({ server_id: z.uuid(), region: Region }),
    reply: Allocation,
  }),
  release: defineCommand("ipam", "release", {
    request: z.object({ server_id: z.uuid() }),
    reply: z.object({ released: z.boolean(), address: z.string().nullable() }),
  }),
  pools: defineCommand("ipam", "pools", {
    request: z.object({}),
    reply: z.object({ items: z.array(Pool) }),
  }),
};
