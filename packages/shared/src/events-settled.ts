import { setTimeout as sleep } from "node:timers/promises";
import { jetstreamManager } from "@nats-io/jetstream";
import type pg from "pg";
import type { Bus } from "./bus.ts";
import { currentDeadline } from "./deadline.ts";
import { AppError } from "./errors.ts";

/** How often the outbox and the consumers are looked at while waiting for them to empty. */
const POLL_MS = 10;

/** How long a wait lasts outside any request's deadline. */
const DEFAULT_WAIT_MS = 30_000;

/**
 * Waits until this process's events have settled: its outbox (when `outboxSchema` is given) is
 * published, and each of its durable consumers has been handed every event and acknowledged it,
 * so what those events cause is in its database. Within the request's deadline; past it TIMEOUT,
 * saying what was still pending. What a simulated clock's catch-up waits for between rounds.
 */
export async function waitForSettledEvents(bus: Bus, pool: pg.Pool, outboxSchema?: string): Promise<void> {
  // real time: a wait, bounded by the request's deadline.
  const deadline = currentDeadline() ?? Date.now() + DEFAULT_WAIT_MS;
  const jsm = await jetstreamManager(bus.nc);
  for (;;) {
    const pending = await pendingEvents(bus, jsm, pool, outboxSchema);
    if (pending.length === 0) return;
    // real time: the same wait's bound.
    if (Date.now() + POLL_MS >= deadline)
      throw new AppError("TIMEOUT", `events still pending at the deadline: ${pending.join(", ")}`, {
        pending,
      });
    await sleep(POLL_MS);
  }
}

/** What is left: "outbox: 3", "billing-usage: 2", or nothing. */
async function pendingEvents(
  bus: Bus,
  jsm: Awaited<ReturnType<typeof jetstreamManager>>,
  pool: pg.Pool,
  outboxSchema: string | undefined,
): Promise<string[]> {
  const pending: string[] = [];
  if (outboxSchema) {
    if (!/^[a-z_]+$/.test(outboxSchema)) throw new Error(`bad outbox schema ${outboxSchema}`);
    const { rows } = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${outboxSchema}.outbox`);
    if (rows[0]?.n) pending.push(`${outboxSchema} outbox: ${rows[0].n}`);
  }
  for (const { stream, durable } of bus.consumers) {
    const info = await jsm.consumers.info(stream, durable);
    const n = info.num_pending + info.num_ack_pending;
    if (n > 0) pending.push(`${durable}: ${n}`);
  }
  return pending;
}
