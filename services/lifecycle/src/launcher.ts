import { type Bus, type Clock, type Db, type HandlerContext, ipam, type Region } from "@cloudsim/shared";
import { addressAllocator } from "./addresses.ts";
import { insertServers, type ServerWrite } from "./db/insert-servers.ts";
import type { QuotaDefaults } from "./domain/quota.ts";
import type { ServerRow } from "./domain/server-view.ts";
import { serverStore } from "./server-store.ts";

/**
 * How new servers get their addresses and are stored, shared by REST provisions and
 * RunInstances: a launch of one server goes through the batching allocator and store, so
 * concurrent ones share ipam requests and insert statements; a reservation of several is one
 * ipam request and one statement of its own (a batch is never split).
 */
export function launcher(bus: Bus, db: Db, quota: QuotaDefaults, clock: Clock) {
  const allocate = addressAllocator(bus);
  const storeOne = serverStore(db, quota, clock);
  return {
    allocate,
    /** Addresses for these servers from the region's pool or the subnet's: as many as are free, in order. */
    async addresses(
      ids: readonly string[],
      { region, subnetId }: { region: Region; subnetId?: string | undefined },
      ctx: HandlerContext,
    ) {
      if (ids.length === 1) {
        const serverId = ids[0] as string;
        const address = await allocate({ serverId, region, subnetId, requestId: ctx.requestId });
        return [{ server_id: serverId, address }];
      }
      const reply = await bus.request(
        ipam.allocateMany,
        { items: ids.map((id) => ({ server_id: id, region, subnet_id: subnetId })) },
        ctx,
      );
      return reply.items.filter(
        (item): item is { server_id: string; address: string } => item.address !== null,
      );
    },
    /** Stores the servers of one launch, all or none. */
    async store(writes: readonly ServerWrite[]): Promise<ServerRow[]> {
      return writes.length === 1
        ? [await storeOne(writes[0] as ServerWrite)]
        : insertServers(db, writes, quota, clock);
    },
  };
}
export type Launcher = ReturnType<typeof launcher>;
