import { billingConfig, startBilling } from "@cloudsim/billing";
import { gatewayConfig, startGateway } from "@cloudsim/gateway";
import { ipamConfig, startIpam } from "@cloudsim/ipam";
import { lifecycleConfig, startLifecycle } from "@cloudsim/lifecycle";
import { reaperConfig, startReaper } from "@cloudsim/reaper";
import { type Env, type ServiceEntry, serviceEntry } from "@cloudsim/shared";

/**
 * The five services, started side by side and stopped in reverse of this order: the gateway
 * first, so no new request comes in, ipam last, once lifecycle asks it for nothing more.
 */
export const services = {
  ipam: serviceEntry({ name: "ipam", schema: ipamConfig, start: startIpam }),
  lifecycle: serviceEntry({ name: "lifecycle", schema: lifecycleConfig, start: startLifecycle }),
  billing: serviceEntry({ name: "billing", schema: billingConfig, start: startBilling }),
  reaper: serviceEntry({ name: "reaper", schema: reaperConfig, start: startReaper }),
  gateway: serviceEntry({ name: "gateway", schema: gatewayConfig, start: startGateway }),
} satisfies Record<string, ServiceEntry>;

export type ServiceName = keyof typeof services;
export const serviceNames = Object.keys(services) as ServiceName[];

/**
 * A service's environment in one process: the process's, with what `<SERVICE>__<NAME>` sets
 * for that service alone (LIFECYCLE__PORT=8081, IPAM__DATABASE_URL=…), so each keeps its own
 * port, database role, NATS user and settings, as it would in a process of its own.
 */
export function serviceEnv(env: Env, name: ServiceName): Env {
  const prefix = `${name.toUpperCase()}__`;
  const own = Object.entries(env)
    .filter(([key]) => key.startsWith(prefix))
    .map(([key, value]) => [key.slice(prefix.length), value]);
  return { ...oneProcessDefaults, ...env, ...Object.fromEntries(own) };
}

/**
 * Defaults of the one process that differ from a service's own: four services with a pool of
 * ten each would hold forty Postgres backends (each a few MB of the system's memory) for what
 * one event loop can keep busy (docs/performance.md has what the bench measured with four).
 */
const oneProcessDefaults: Env = { DB_POOL_MAX: "4" };
