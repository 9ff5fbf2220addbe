import {
  type Bus,
  batched,
  context,
  currentDeadline,
  type HandlerContext,
  ipam,
  MAX_ALLOCATIONS,
  type Region,
  ROOT_CONTEXT,
  withDeadline,
  withoutDeadline,
  withRequestId,
} from "@cloudsim/shared";

interface Wanted {
  serverId: string;
  region: Region;
  /** The subnet whose pool gives the address (none: the region's). */
  subnetId?: string | undefined;
  requestId: string;
  /** The asking request's deadline, taken when it asks (a batch runs in another's context). */
  deadline?: number | undefined;
}

/**
 * A batch runs in whichever caller's context started it: each request sets its own deadline
 * (the one asking alone keeps its caller's, one shared by many has none but its own timeout).
 */
const underDeadline = <T>(deadline: number | undefined, fn: () => Promise<T>) =>
  deadline === undefined ? withoutDeadline(fn) : withDeadline(deadline, fn);

/**
 * Addresses from ipam for new servers. A provision alone asks ipam.allocate, in its own trace;
 * provisions that arrive while that request is out share the next one (ipam.allocate_many: one
 * request and one statement per region for all of them), which belongs to none of their traces.
 * A server the batch found no free address for asks on its own, which says why.
 */
export function addressAllocator(bus: Bus): (wanted: Wanted) => Promise<string> {
  const alone = async ({ serverId, region, subnetId, requestId, deadline }: Wanted) =>
    (
      await underDeadline(deadline, () =>
        bus.request(ipam.allocate, { server_id: serverId, region, subnet_id: subnetId }, { requestId }),
      )
    ).address;
  const together = async (batch: Wanted[]) => {
    const items = batch.map((w) => ({ server_id: w.serverId, region: w.region, subnet_id: w.subnetId }));
    const reply = await context.with(ROOT_CONTEXT, () =>
      withRequestId(null, () => withoutDeadline(() => bus.request(ipam.allocateMany, { items }))),
    );
    const addresses = new Map(reply.items.map((item) => [item.server_id.toLowerCase(), item.address]));
    return batch.map((w) => addresses.get(w.serverId.toLowerCase()) ?? null);
  };
  const take = batched(
    async (batch: Wanted[]) => (batch.length === 1 ? [await alone(batch[0] as Wanted)] : together(batch)),
    MAX_ALLOCATIONS,
  );
  return async (wanted) => {
    const timed = { ...wanted, deadline: currentDeadline() };
    return (await take(timed)) ?? alone(timed);
  };
}

/**
 * Gives the address ipam holds for a server that was not stored back, outside the request's
 * deadline (a failure is logged, not thrown). ipam releases only what it holds for this server.
 */
export async function returnAddress(
  bus: Bus,
  ctx: HandlerContext,
  fields: { server_id: string; address?: string },
  message: string,
): Promise<void> {
  await withoutDeadline(() => bus.request(ipam.release, { server_id: fields.server_id }, ctx)).catch(
    (err) => {
      ctx.log.error({ err, ...fields }, message);
    },
  );
}
