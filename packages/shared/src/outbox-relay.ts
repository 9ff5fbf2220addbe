import { headers } from "@nats-io/transport-node";
import type pg from "pg";
import type { Bus } from "./bus.ts";
import { REQUEST_ID_HEADER } from "./command-server.ts";
import { inTransaction } from "./db.ts";
import { MSG_ID_HEADER, TRACEPARENT_HEADER } from "./event-stream.ts";
import type { Logger } from "./logger.ts";
import { startLoop } from "./poll-loop.ts";

interface OutboxRow {
  seq: string;
  event_id: string;
  subject: string;
  ordering_key: string;
  payload: unknown;
  request_id: string | null;
  /** Only in outboxes made with tracedOutboxTable. */
  traceparent?: string | null;
}

/**
 * Publishes one batch from `<schema>.outbox`. One relay at a time holds the advisory lock, so
 * events of one key go out in the order written; different keys are published in parallel.
 * Rows whose publish was acknowledged are deleted; the rest wait for the next round (a
 * re-publish is dropped by the stream's duplicate window and by consumers' event ids).
 * A replica whose client is between servers leaves the round to the others.
 */
export async function relayOutboxBatch(
  pool: pg.Pool,
  schema: string,
  bus: Bus,
  batch: number,
): Promise<number> {
  if (!/^[a-z_]+$/.test(schema) || !Number.isInteger(batch)) throw new Error(`bad outbox ${schema}/${batch}`);
  // Cut off from NATS, this replica would hold the outbox's lock for nothing: a replica still
  // on a server publishes instead.
  if (!bus.connected) return 0;
  return inTransaction(
    pool,
    async (client) => {
      // Round trips are what this loop costs, so BEGIN, the lock and the read travel together;
      // while another replica holds the lock the read is skipped altogether (a one-time filter).
      const [, read] = (await client.query(
        `BEGIN;
         SELECT o.* FROM (SELECT pg_try_advisory_xact_lock(hashtext('outbox:${schema}')) AS locked) AS l
         CROSS JOIN LATERAL (SELECT * FROM ${schema}.outbox WHERE l.locked ORDER BY seq LIMIT ${batch}) AS o`,
      )) as unknown as [pg.QueryResult, pg.QueryResult<OutboxRow>];
      const published = read.rows.length > 0 ? await publishInKeyOrder(bus, read.rows) : [];
      const seqs = published.map(Number).filter(Number.isSafeInteger);
      await client.query(
        seqs.length > 0 ? `DELETE FROM ${schema}.outbox WHERE seq IN (${seqs.join(",")}); COMMIT` : "COMMIT",
      );
      return published.length;
    },
    { fnSendsBeginAndCommit: true },
  );
}

async function publishInKeyOrder(bus: Bus, rows: OutboxRow[]): Promise<string[]> {
  const lastOfKey = new Map<string, Promise<boolean>>();
  const outcomes = rows.map((row) => {
    const previous = lastOfKey.get(row.ordering_key) ?? Promise.resolve(true);
    // A failed publish stops the rest of its key, so a later event never overtakes it.
    const outcome = previous.then(async (ok) => {
      if (!ok) return false;
      const h = headers();
      if (row.request_id) h.set(REQUEST_ID_HEADER, row.request_id);
      if (row.traceparent) h.set(TRACEPARENT_HEADER, row.traceparent);
      h.set(MSG_ID_HEADER, row.event_id);
      return bus
        .publishToStream(bus.prefix + row.subject, JSON.stringify(row.payload), h)
        .then(() => true)
        .catch(() => false);
    });
    lastOfKey.set(row.ordering_key, outcome);
    return outcome;
  });
  const done = await Promise.all(outcomes);
  return rows.filter((_, i) => done[i]).map((row) => row.seq);
}

export function startOutboxRelay(opts: {
  pool: pg.Pool;
  schema: string;
  bus: Bus;
  intervalMs: number;
  batch: number;
  log: Logger;
}) {
  return startLoop(
    "outbox relay",
    () => relayOutboxBatch(opts.pool, opts.schema, opts.bus, opts.batch),
    opts,
  );
}
