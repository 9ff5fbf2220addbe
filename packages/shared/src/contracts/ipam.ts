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

/** A subnet whose pool gives the address; left out (or a default subnet): the region's pool. */
const SubnetId = z.string().min(1).max(64);

export const Allocation = z.object({ server_id: z.uuid(), region: Region, address: z.string() });

/** The most servers one ipam.allocate_many asks addresses for. */
export const MAX_ALLOCATIONS = 100;

/** Commands answered by ipam. */
export const ipam = {
  allocate: defineCommand("ipam", "allocate", {
    request: z.object({ server_id: z.uuid(), region: Region, subnet_id: SubnetId.optional() }),
    reply: Allocation,
  }),
  /**
   * Addresses for many new servers at once (lifecycle batches concurrent provisions). A null
   * address: none was free for that server; ipam.allocate for it alone says why.
   */
  allocateMany: defineCommand("ipam", "allocate_many", {
    request: z.object({
      items: z
        .array(z.object({ server_id: z.uuid(), region: Region, subnet_id: SubnetId.optional() }))
        .min(1)
        .max(MAX_ALLOCATIONS),
    }),
    reply: z.object({ items: z.array(z.object({ server_id: z.uuid(), address: z.string().nullable() })) }),
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
