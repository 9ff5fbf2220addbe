import { randomUUID } from "node:crypto";
import { billOf, parseMoney, type Transition } from "@cloudsim/billing";
import { jetstream } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { expectedBill, sleep } from "./billing-helpers.ts";
import { eventually, type ServiceName, sample, useStack } from "./harness.ts";
import { servers } from "./server-helpers.ts";

const RATE = "6";
const regions = ["us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-1"];

describe("events consumed in batches", () => {
  const ctx = useStack({
    env: { BILLING_RATE: RATE, BILLING_INTERVAL: "1h", STOP_DELAY: "200ms", TERMINATE_DELAY: "200ms" },
  });
  let db: pg.Client;
  beforeAll(async () => {
    db = new pg.Client({ connectionString: ctx.stack.database.url });
    await db.connect();
  });
  afterAll(() => db?.end());
  const count = async (query: string, params: unknown[] = []) =>
    (await db.query<{ n: number }>(query, params)).rows[0]?.n;

  it("a burst of servers: every consumer applies each event exactly once", async () => {
    const s = servers(ctx.api);
    const ids: string[] = (
      await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          s.provision({ region: regions[i % regions.length], type: "t2.micro" }),
        ),
      )
    ).map((server) => server.id);
    await Promise.all(ids.map((id) => s.until(id, "running")));
    await sleep(300);
    for (const res of await Promise.all(ids.map((id) => s.act(id, "stop")))) expect(res.status).toBe(202);
    await Promise.all(ids.map((id) => s.until(id, "stopped")));
    for (const res of await Promise.all(ids.map((id) => s.remove(id)))) expect(res.status).toBe(202);
    await Promise.all(ids.map((id) => s.until(id, "terminated")));

    // lifecycle: each server's log has the entries of billing's and ipam's events, once each.
    const fromEvents = ["billing.started", "billing.stopped", "ip.released"];
    const hasAll = async () => {
      const logs = await Promise.all(ids.map((id) => s.log(id)));
      return logs.every((log) => fromEvents.every((type) => log.some((e) => e.type === type)))
        ? logs
        : undefined;
    };
    await eventually(hasAll, 15_000, "every log has its entries from events");
    await sleep(300);
    const logs = (await hasAll()) ?? [];
    logs.forEach((log, i) => {
      for (const type of fromEvents)
        expect(
          log.filter((e) => e.type === type),
          `${ids[i]} ${type}`,
        ).toHaveLength(1);
    });

    // billing: every transition recorded once, and each server billed what its own log says.
    const transitions = logs.flat().filter((e) => e.type === "state.changed").length;
    expect(transitions).toBe(ids.length * 6);
    expect(
      await count("SELECT count(*)::int AS n FROM billing.transitions WHERE server_id = ANY($1)", [ids]),
    ).toBe(transitions);
    for (const id of ids) {
      const expected = await expectedBill(ctx.api, id, { rate: RATE });
      const ledger = (await ctx.api.get(`/servers/${id}/billing?limit=1000`)).body;
      expect(ledger.amount, id).toBe(expected.amount);
      expect(ledger.items.filter((l: { kind: string }) => l.kind === "settlement")).toHaveLength(1);
    }
    // Events were applied many to a transaction (processed_at is the transaction's start).
    expect(
      await count(
        "SELECT max(n)::int AS n FROM (SELECT count(*) AS n FROM billing.processed_events GROUP BY processed_at) b",
      ),
    ).toBeGreaterThan(1);

    // reaper and ipam: every server terminated, no address held.
    await eventually(async () =>
      (await count(
        "SELECT count(*)::int AS n FROM reaper.watched WHERE server_id = ANY($1) AND state = 'terminated'",
        [ids],
      )) === ids.length
        ? true
        : undefined,
    );
    expect(
      await count("SELECT count(*)::int AS n FROM ipam.addresses WHERE server_id = ANY($1)", [ids]),
    ).toBe(0);
  });

  /** A server event as lifecycle would publish it, about a server lifecycle may not know. */
  const event = (serverId: string, toState: string, occurredAt: string) => ({
    id: randomUUID(),
    type: "server.state_changed",
    occurred_at: occurredAt,
    server_id: serverId,
    request_id: null,
    from_state: null,
    to_state: toState,
    actor: "system",
    server: { region: "eu-west-1", type: "t2.micro", ip_address: null, tags: {} },
  });
  const at = (ms: number) => new Date(Date.now() - 120_000 + ms).toISOString();

  /** Publishes `events` while `names` are stopped, so that they find them waiting, in batches. */
  async function deliverAtOnce(names: ServiceName[], events: ReturnType<typeof event>[]) {
    for (const name of names) {
      const service = ctx.stack.services.find((x) => x.name === name);
      if (service) await ctx.stack.stopService(service.running);
    }
    const nc = await connect({ servers: inject("natsUrl") });
    try {
      const js = jetstream(nc);
      const prefix = ctx.stack.env.NATS_SUBJECT_PREFIX ?? "";
      for (const e of events)
        await js.publish(`${prefix}events.server.${e.to_state}`, JSON.stringify(e), { msgID: randomUUID() });
    } finally {
      await nc.drain();
    }
    return Promise.all(names.map((name) => ctx.stack.start(name)));
  }

  /** Histories of `n` servers billing never saw, each running for a time of its own. */
  function ghostHistories(n: number) {
    return Array.from({ length: n }, (_, i) => {
      const id = randomUUID();
      const steps = [
        ["provisioning", 0],
        ["running", 1_000],
        ["stopping", 1_000 + (i + 1) * 3_000],
        ["stopped", 1_500 + (i + 1) * 3_000],
      ] as const;
      return { id, events: steps.map(([state, ms]) => event(id, state, at(ms))) };
    });
  }

  /** Each ghost's ledger sums to what its history says; returns the sum of all, in nano-units. */
  async function expectBilled(ghosts: ReturnType<typeof ghostHistories>) {
    const ids = ghosts.map((g) => g.id);
    await eventually(
      async () =>
        (await count("SELECT count(*)::int AS n FROM billing.transitions WHERE server_id = ANY($1)", [
          ids,
        ])) ===
        ids.length * 4
          ? true
          : undefined,
      15_000,
      "the ghosts' transitions",
    );
    const billed = await db.query<{ server_id: string; amount: string }>(
      "SELECT server_id, sum(amount)::text AS amount FROM billing.ledger WHERE server_id = ANY($1) GROUP BY server_id",
      [ids],
    );
    let total = 0n;
    for (const ghost of ghosts) {
      const transitions: Transition[] = ghost.events.map((e) => ({
        eventId: e.id,
        at: Date.parse(e.occurred_at),
        toState: e.to_state as Transition["toState"],
        rate: parseMoney(RATE),
      }));
      const expected = billOf(transitions, Date.now(), 0).amount;
      expect(expected).toBeGreaterThan(0n);
      const amount = billed.rows.find((r) => r.server_id === ghost.id)?.amount;
      expect(parseMoney(amount ?? "0"), ghost.id).toBe(expected);
      total += expected;
    }
    return total;
  }

  it("a batch with many events of a server applies them as one by one, in stream order", async () => {
    const ghosts = ghostHistories(10);
    // reaper: one server stops and starts again, another's stop arrives late; both were decided.
    const [restarted, late] = [randomUUID(), randomUUID()];
    for (const id of [restarted, late])
      await db.query(
        `INSERT INTO reaper.watched (server_id, state, state_since, decided_at, outcome)
         VALUES ($1, 'stopped', $2, now(), 'spared')`,
        [id, at(0)],
      );
    await deliverAtOnce(
      ["billing", "reaper"],
      [
        // Interleaved: the servers' events meet in batches, each server's in its order.
        ...[0, 1, 2, 3].flatMap((step) => ghosts.flatMap((g) => g.events[step] ?? [])),
        event(restarted, "stopped", at(10_000)),
        event(restarted, "running", at(20_000)),
        event(late, "running", at(20_000)),
        event(late, "stopped", at(10_000)),
      ],
    );
    await expectBilled(ghosts);
    const watched = async (id: string) =>
      (await db.query("SELECT state, outcome, decided_at FROM reaper.watched WHERE server_id = $1", [id]))
        .rows[0];
    await eventually(async () => ((await watched(late))?.state === "running" ? true : undefined));
    // As one by one: the stop cleared the decision, the late stop changed nothing.
    expect(await watched(restarted)).toMatchObject({ state: "running", outcome: null, decided_at: null });
    expect(await watched(late)).toMatchObject({ state: "running", outcome: "spared" });
    const ids = ghosts.map((g) => g.id);
    expect(
      await count(
        "SELECT count(*)::int AS n FROM reaper.watched WHERE server_id = ANY($1) AND state = 'stopped'",
        [ids],
      ),
    ).toBe(ids.length);
  });

  it("a bad event holds back none of its batch, and each event is counted once", async () => {
    const ghosts = ghostHistories(6);
    const bad = event(randomUUID(), "running", "not a time");
    const events = ghosts.flatMap((g) => g.events);
    const [billing] = await deliverAtOnce(["billing"], [...events.slice(0, 12), bad, ...events.slice(12)]);
    const total = await expectBilled(ghosts);
    expect(
      await count("SELECT count(*)::int AS n FROM billing.transitions WHERE server_id = $1", [bad.server_id]),
    ).toBe(0);
    // The failed batch counted nothing; each event was counted once, when handled on its own.
    const counted = async () => {
      const metrics = await (await fetch(`http://127.0.0.1:${billing?.port}/metrics`)).text();
      return (
        sample(metrics, "cloudsim_billing_amount_total") -
        sample(metrics, "cloudsim_billing_credited_amount_total")
      );
    };
    await eventually(async () =>
      Math.abs((await counted()) - Number(total) / 1e9) < 1e-6 ? true : undefined,
    );
    const lines = ctx.stack.logs.lines.filter((l) => l.service === "billing");
    expect(lines.some((l) => l.msg === "event batch failed; handling its events one by one")).toBe(true);
    expect(lines.some((l) => l.msg === "event handling failed; it will be redelivered")).toBe(true);
  });
});
