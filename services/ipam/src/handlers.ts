import { type Bus, type HandlerMetrics, ipam } from "@cloudsim/shared";
import type { IpamRepository } from "./db/repository.ts";

export function serveIpam(bus: Bus, repo: IpamRepository, metrics: HandlerMetrics) {
  bus.serve(
    ipam.allocate,
    async ({ server_id, region }, { log }) => {
      const address = await repo.allocate(server_id, region);
      log.debug({ server_id, address }, "address allocated");
      return { server_id, region, address };
    },
    metrics,
  );
  bus.serve(ipam.allocateMany, async ({ items }) => ({ items: await repo.allocateMany(items) }), metrics);
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
