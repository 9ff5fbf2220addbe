import { Gauge, type Registry } from "@cloudsim/shared";
import type { IpamRepository } from "./db/repository.ts";

/**
 * cloudsim_ipam_addresses{region,cidr,status}: each pool's addresses that are free (can be
 * taken now), used (held by a server or reserved for one) and cooling (released, inside
 * IP_REUSE_COOLDOWN), counted when Prometheus scrapes. Replicas report the same numbers.
 */
export function addressMetrics(registry: Registry, repo: IpamRepository) {
  new Gauge({
    name: "cloudsim_ipam_addresses",
    help: "Addresses of each pool by status: free, used, cooling (released, not reusable yet)",
    labelNames: ["region", "cidr", "status"],
    registers: [registry],
    async collect() {
      this.reset();
      try {
        for (const pool of await repo.usage()) {
          const labels = { region: pool.region, cidr: pool.cidr };
          this.set({ ...labels, status: "free" }, pool.free);
          this.set({ ...labels, status: "used" }, pool.used);
          this.set({ ...labels, status: "cooling" }, pool.cooling_down);
        }
      } catch {
        // Postgres is away: cloudsim_dependency_up says so.
      }
    },
  });
}
