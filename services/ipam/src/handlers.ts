import { type Bus, type HandlerMetrics, ipam } from "@cloudsim/shared";
import type { IpamRepository } from "./db/repository.ts";
import type { SubnetRepository } from "./db/subnets.ts";

/** A request's pool: a subnet's (a default subnet's is its region's), or the region's. */
const poolFor = (
  subnets: SubnetRepository,
  { region, subnet_id }: { region: string; subnet_id?: string | undefined },
) => (subnet_id === undefined ? Promise.resolve(region) : subnets.poolOf(subnet_id));

export function serveIpam(
  bus: Bus,
  repo: IpamRepository,
  subnets: SubnetRepository,
  metrics: HandlerMetrics,
) {
  bus.serve(
    ipam.allocate,
    async (request, { log }) => {
      const address = await repo.allocate(request.server_id, await poolFor(subnets, request));
      log.debug({ server_id: request.server_id, address }, "address allocated");
      return { server_id: request.server_id, region: request.region, address };
    },
    metrics,
  );
  bus.serve(
    ipam.allocateMany,
    async ({ items }) => {
      const pools = await Promise.all(items.map((item) => poolFor(subnets, item)));
      return {
        items: await repo.allocateMany(
          items.map((item, i) => ({ server_id: item.server_id, pool_id: pools[i] as string })),
        ),
      };
    },
    metrics,
  );
  bus.serve(
    ipam.release,
    async ({ server_id }) => {
      const [released] = await repo.release([server_id]);
      return { released: released !== undefined, address: released?.address ?? null };
    },
    metrics,
  );
  bus.serve(ipam.pools, async () => ({ items: await repo.usage() }), metrics);
}
