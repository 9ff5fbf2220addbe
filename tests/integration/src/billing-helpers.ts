import { billOf, formatMoney, parseMoney, type Transition } from "@cloudsim/billing";
import { connect } from "@nats-io/transport-node";
import { inject } from "vitest";
import { type client, eventually } from "./harness.ts";
import { servers } from "./server-helpers.ts";

/** What billing must charge a server, computed from the timestamps of its own log. */
export async function expectedBill(
  api: ReturnType<typeof client>,
  id: string,
  opts: { rate: string; minimumSeconds?: number; horizon?: number },
) {
  const transitions: Transition[] = (await servers(api).transitions(id)).map((e) => ({
    eventId: e.id,
    at: Date.parse(e.at),
    toState: e.to_state as Transition["toState"],
    rate: parseMoney(opts.rate),
  }));
  const bill = billOf(transitions, opts.horizon ?? Date.now(), (opts.minimumSeconds ?? 0) * 1000);
  return { amount: formatMoney(bill.amount), billable_seconds: Number(bill.billedMs) / 1000, bill };
}

/** Polls the server's usage until its amount is `amount`. */
export function billedAmount(api: ReturnType<typeof client>, id: string, amount: string, timeoutMs = 10_000) {
  return eventually(
    async () => {
      const res = await api.get(`/servers/${id}`);
      return res.body.billing?.amount === amount ? res.body.billing : undefined;
    },
    timeoutMs,
    `server ${id} billed ${amount}`,
  ).catch(async (err) => {
    const res = await api.get(`/servers/${id}/billing`);
    throw new Error(`${err.message}; ledger ${JSON.stringify(res.body)}`);
  });
}

/** Sends a command to billing over NATS (for servers the gateway does not know). */
export async function billingRequest(prefix: string, verb: string, body: unknown) {
  const nc = await connect({ servers: inject("natsUrl") });
  try {
    const msg = await nc.request(`${prefix}billing.${verb}`, JSON.stringify(body), { timeout: 3_000 });
    const envelope = msg.json<{ ok: boolean; data: Record<string, unknown> }>();
    if (!envelope.ok) throw new Error(JSON.stringify(envelope));
    return envelope.data;
  } finally {
    await nc.drain();
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
