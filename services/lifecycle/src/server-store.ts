import { batched, type Clock, context, type Db, ROOT_CONTEXT } from "@cloudsim/shared";
import { insertServers, type ServerWrite } from "./db/insert-servers.ts";
import type { QuotaDefaults } from "./domain/quota.ts";
import type { ServerRow } from "./domain/server-view.ts";

/** The most new servers stored by one statement. */
const MAX_STORED_TOGETHER = 100;

type Outcome = { row: ServerRow } | { err: unknown };

/**
 * Stores new servers. A provision alone is stored at once; provisions that arrive while a store
 * is in flight share the next one: one statement and one commit for all of them, so a tenant's
 * provisions take the usage trigger's lock on its row once per batch rather than once each.
 * A batch fails as a whole (a quota refused, an Idempotency-Key another request took): then each
 * of its servers is stored alone, so each gets the answer it would have had alone. Each
 * statement stamps its servers with the clock's time.
 */
export function serverStore(
  db: Db,
  quota: QuotaDefaults,
  clock: Clock,
): (write: ServerWrite) => Promise<ServerRow> {
  const alone = (write: ServerWrite): Promise<Outcome> =>
    insertServers(db, [write], quota, clock).then(
      ([row]) => (row ? { row } : { err: new Error("insert returned no row") }),
      (err: unknown) => ({ err }),
    );
  const store = batched(async (writes: ServerWrite[]): Promise<Outcome[]> => {
    if (writes.length === 1) return [await alone(writes[0] as ServerWrite)];
    try {
      // The statement is every provision's; each one's trace is in its rows (ServerWrite).
      const rows = await context.with(ROOT_CONTEXT, () => insertServers(db, writes, quota, clock));
      return rows.map((row) => ({ row }));
    } catch {
      return Promise.all(writes.map(alone));
    }
  }, MAX_STORED_TOGETHER);
  return async (write) => {
    const outcome = await store(write);
    if ("err" in outcome) throw outcome.err;
    return outcome.row;
  };
}
