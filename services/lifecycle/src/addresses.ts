import {
  type Bus,
  batched,
  context,
  ipam,
  MAX_ALLOCATIONS,
  type Region,
  ROOT_CONTEXT,
  withRequestId,
} from "@cloudsim/shared";

interface Wanted {
  serverId: string;
  region: Region;
  requestId: string;
}

/**
 * Addresses from ipam for new servers. A provision alone asks ipam.allocate, in its own trace;
 * provisions that arrive while that request is out share the next one (ipam.allocate_many: one
 * request and one statement per region for all of them), which belongs to none of their traces.
 * A server the batch found no free address for asks on its own, which says why.
 */
export function addressAllocator(bus: Bus): (wanted: Wanted) => Promise<string> {
  const alone = async ({ serverId, region, requestId }: Wanted) =>
    (await bus.request(ipam.allocate, { server_id: serverId, region }, { requestId })).address;
  const together = async (batch: Wanted[]) => {
    const items = batch.map((w) => ({ server_id: w.serverId, region: w.region }));
    const reply = await context.with(ROOT_CONTEXT, () =>
      withRequestId(null, () => bus.request(ipam.allocateMany, { items })),
    );
    const addresses = new Map(reply.items.map((item) => [item.server_id.toLowerCase(), item.address]));
    return batch.map((w) => addresses.get(w.serverId.toLowerCase()) ?? null);
  };
  const take = batched(
    async (batch: Wanted[]) => (batch.length === 1 ? [await alone(batch[0] as Wanted)] : together(batch)),
    MAX_ALLOCATIONS,
  );
  return async (wanted) => (await take(wanted)) ?? alone(wanted);
}
