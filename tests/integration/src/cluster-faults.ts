import type { JetStreamManager } from "@nats-io/jetstream";
import { expect } from "vitest";
import { expectedBill, sleep } from "./billing-helpers.ts";
import { allPages, type client, eventually } from "./harness.ts";

type Api = ReturnType<typeof client>;

/** The price per minute the fault tests bill t2.micro at (BILLING_RATE), so bills are worth comparing. */
export const FAULT_RATE = "6";

/** What the clients saw while a fault happened. */
export interface Traffic {
  /** Every answer's status, in the order answered. */
  statuses: number[];
  /** The servers the clients were told were made. */
  made: string[];
  /** From the fault's start to the first provision answered 201 that was sent after it. */
  firstMadeAfterFaultMs?: number;
  /** From the fault's start to its end (the node back, the link healed). */
  faultMs: number;
  /** The first answer of each status other than 201 and 202: what the clients were told. */
  examples: Record<string, string>;
}

/**
 * `clients` clients each provisioning a t2.micro, waiting for it to run, and terminating it,
 * for `durationMs`, while `fault` runs (it starts after `faultAfterMs`). A refused or failed
 * answer makes its client pause 50 ms.
 */
export async function driveTraffic(
  api: Api,
  opts: {
    region: string;
    clients: number;
    durationMs: number;
    faultAfterMs: number;
    fault: () => Promise<void>;
  },
): Promise<Traffic> {
  const deadline = Date.now() + opts.durationMs;
  const traffic: Traffic = { statuses: [], made: [], faultMs: 0, examples: {} };
  let faultAt = Number.POSITIVE_INFINITY;
  const answer = ({ status, body }: { status: number; body: unknown }) => {
    traffic.statuses.push(status);
    if (status !== 201 && status !== 202) traffic.examples[status] ??= JSON.stringify(body).slice(0, 300);
    return status;
  };
  const client = async () => {
    while (Date.now() < deadline) {
      const sentAt = Date.now();
      const created = await api.post("/servers", { region: opts.region, type: "t2.micro" });
      if (answer(created) !== 201) {
        await sleep(50);
        continue;
      }
      if (sentAt >= faultAt && traffic.firstMadeAfterFaultMs === undefined)
        traffic.firstMadeAfterFaultMs = Date.now() - faultAt;
      const id: string = created.body.id;
      traffic.made.push(id);
      await untilRunning(api, id, 3_000);
      answer(await api.call("DELETE", `/servers/${id}`));
    }
  };
  const fault = async () => {
    await sleep(opts.faultAfterMs);
    faultAt = Date.now();
    await opts.fault();
    traffic.faultMs = Date.now() - faultAt;
  };
  await Promise.all([...Array.from({ length: opts.clients }, client), fault()]);
  return traffic;
}

/** Waits (at most `timeoutMs`) for the server to leave provisioning, whatever else happens. */
async function untilRunning(api: Api, id: string, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const res = await api.get(`/servers/${id}`);
    if (res.status === 200 && res.body.state !== "provisioning") return;
    await sleep(50);
  }
}

/** The events stream's last sequence and each durable consumer's progress on it. */
export async function streamProgress(jsm: JetStreamManager, stream: string) {
  const info = await jsm.streams.info(stream);
  const consumers: Record<string, { ackFloor: number; redelivered: number; pending: number }> = {};
  for await (const c of jsm.consumers.list(stream)) {
    if (!c.config.durable_name) continue;
    consumers[c.name] = {
      ackFloor: c.ack_floor.stream_seq,
      redelivered: c.num_redelivered,
      pending: c.num_pending + c.num_ack_pending,
    };
  }
  return { lastSeq: info.state.last_seq, consumers };
}

/**
 * Every server of the region ends terminated (the ones still live are terminated now), every
 * address is back in the pool, and each server the clients made has a log with each step once
 * and a bill equal to what its log says (what a run without the fault would have charged).
 * Returns how long the system took to settle.
 */
export async function accountForEverything(
  api: Api,
  opts: { region: string; made: string[]; freeBefore: number; timeoutMs?: number },
) {
  const started = Date.now();
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const live = async () => (await allPages(api, `region=${opts.region}`, 100)).flatMap((p) => p.ids);
  for (const id of await live()) await api.call("DELETE", `/servers/${id}`);
  await eventually(
    async () => ((await live()).length === 0 ? true : undefined),
    timeoutMs,
    "every server terminated",
  );
  await eventually(
    async () => ((await freeAddresses(api, opts.region)) === opts.freeBefore ? true : undefined),
    timeoutMs,
    `every address of ${opts.region} back (${opts.freeBefore} free)`,
  );
  for (const id of opts.made) {
    // The log learns of the release from ipam's event, after the pool does.
    const steps = await eventually(
      async () => {
        const log = (await api.get(`/servers/${id}/logs?limit=100`)).body.items as {
          type: string;
          to_state: string | null;
        }[];
        const steps = log.map((e) => (e.to_state ? `${e.type}:${e.to_state}` : e.type));
        return steps.includes("ip.released") ? steps : undefined;
      },
      timeoutMs,
      `${id}'s log has ip.released`,
    );
    expect(new Set(steps).size, `${id} has a step twice: ${steps}`).toBe(steps.length);
    expect(steps, id).toContainEqual(expect.stringMatching(/:terminated$/));
    const expected = await expectedBill(api, id, { rate: FAULT_RATE });
    await eventually(
      async () =>
        (await api.get(`/servers/${id}`)).body.billing?.amount === expected.amount ? true : undefined,
      timeoutMs,
      `${id} billed ${expected.amount}`,
    );
  }
  return { settledMs: Date.now() - started };
}

export async function freeAddresses(api: Api, region: string): Promise<number> {
  const pools = (await api.get("/ipam/pools")).body.items as { region: string; free: number }[];
  return pools.find((p) => p.region === region)?.free ?? Number.NaN;
}

/** Counts answers by status, e.g. {"201": 40, "503": 2}. */
export function byStatus(statuses: number[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const s of statuses) counts[s] = (counts[s] ?? 0) + 1;
  return counts;
}

/** The figures of one fault, printed for the closing note and the CI log. */
export function printFigures(
  fault: string,
  traffic: Traffic,
  events: { published: number; consumers: Record<string, { consumed: number; redelivered: number }> },
  settledMs: number,
) {
  const lines = [
    `fault: ${fault}`,
    `  requests: ${traffic.statuses.length}, by status ${JSON.stringify(byStatus(traffic.statuses))}; servers made: ${traffic.made.length}`,
    ...Object.entries(traffic.examples).map(([status, body]) => `  a ${status}: ${body}`),
    `  fault lasted ${traffic.faultMs} ms; first server made after it began: ${traffic.firstMadeAfterFaultMs ?? "none"} ms`,
    `  events published: ${events.published}; consumed: ${Object.entries(events.consumers)
      .map(([name, c]) => `${name} ${c.consumed} (${c.redelivered} redelivered)`)
      .join(", ")}`,
    `  settled (every server terminated, address back, bill right) ${settledMs} ms after the traffic`,
  ];
  console.log(lines.join("\n"));
}
