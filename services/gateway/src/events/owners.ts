import {
  ALL_TENANTS,
  AppError,
  type Bus,
  lifecycle,
  type Region,
  type ServerStateChanged,
} from "@cloudsim/shared";
import { LRUCache } from "lru-cache";

/** Whose servers a feed shows: one tenant's, or every tenant's (ALL_TENANTS, the admin key). */
export type FeedScope = string;

/**
 * Which servers a scope sees, and their regions: ipam's and billing's events name only the
 * server, so a feed learns the owner from the server's own events (which come first) or, for
 * one it has not seen, asks lifecycle within the scope. Bounded: the least recently used go.
 */
export function serverOwners(bus: Bus, size = 10_000) {
  // `<scope>:<server id>` → its region, or false: not in that scope.
  const known = new LRUCache<string, Region | false>({ max: size });
  return {
    learn(event: ServerStateChanged) {
      known.set(`${event.tenant_id}:${event.server_id}`, event.server.region);
      known.set(`${ALL_TENANTS}:${event.server_id}`, event.server.region);
    },
    /** The server's region when `scope` sees it, else null. */
    async regionIn(scope: FeedScope, serverId: string): Promise<Region | null> {
      const key = `${scope}:${serverId}`;
      const cached = known.get(key);
      if (cached !== undefined) return cached || null;
      try {
        const server = await bus.request(lifecycle.get, { id: serverId, tenant_id: scope });
        known.set(key, server.region);
        return server.region;
      } catch (err) {
        if (!(err instanceof AppError && err.code === "NOT_FOUND")) throw err;
        known.set(key, false);
        return null;
      }
    },
  };
}
export type ServerOwners = ReturnType<typeof serverOwners>;
