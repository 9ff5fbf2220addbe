import { Gauge, Region, type Registry, ServerState } from "@cloudsim/shared";
import type pg from "pg";

/**
 * cloudsim_servers{state,region}: how many servers are in each state in each region, counted
 * with one GROUP BY when Prometheus scrapes (every pair is reported, 0 included, so a series
 * never vanishes). Replicas report the same numbers: aggregate with max, not sum.
 */
export function serverMetrics(registry: Registry, pool: pg.Pool) {
  new Gauge({
    name: "cloudsim_servers",
    help: "Servers by state and region (terminated included), counted at scrape time",
    labelNames: ["state", "region"],
    registers: [registry],
    async collect() {
      let rows: { state: string; region: string; n: number }[];
      try {
        ({ rows } = await pool.query(
          "SELECT state, region, count(*)::int AS n FROM lifecycle.servers GROUP BY state, region",
        ));
      } catch {
        this.reset(); // Postgres is away: cloudsim_dependency_up says so.
        return;
      }
      for (const state of ServerState.options)
        for (const region of Region.options) this.set({ state, region }, 0);
      for (const row of rows) this.set({ state: row.state, region: row.region }, row.n);
    },
  });
}
