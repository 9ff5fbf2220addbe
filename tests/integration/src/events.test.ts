import { connect } from "node:net";
import { eventStreamName } from "@cloudsim/shared";
import { jetstreamManager } from "@nats-io/jetstream";
import { describe, expect, it } from "vitest";
import { busOf, eventually, sample, useStack } from "./harness.ts";
import { type Feed, openFeed, type SseMessage } from "./sse-helpers.ts";
import { ADMIN_KEY, authEnv, bearer, expectProblem, keyed, newTenant } from "./tenancy-helpers.ts";

const ofServer = (id: string) => (m: SseMessage) => m.data.server_id === id;
const toState = (state: string) => (m: SseMessage) => m.data.to_state === state;
const ids = (messages: SseMessage[]) => messages.map((m) => Number(m.id));

describe("GET /events", () => {
  const ctx = useStack({ env: { PROVISION_DELAY: "100ms", STOP_DELAY: "100ms", EVENTS_HEARTBEAT: "200ms" } });
  const feedUrl = (query = "") => `${ctx.stack.url}/events${query}`;

  it("sends each event once, in stream order, and resumes after Last-Event-ID without gaps or repeats", async () => {
    const feed = await openFeed(feedUrl());
    expect(feed.res.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const created = await ctx.api.post("/servers", { region: "us-east-1", type: "t2.micro" });
    const id = created.body.id as string;
    const running = await feed.until((m) => ofServer(id)(m) && toState("running")(m));
    await feed.until((m) => ofServer(id)(m) && m.data.type === "billing.started");
    await feed.close();
    const seen = feed.messages.filter(ofServer(id));
    expect(seen.map((m) => m.data.type)).toContain("billing.started");
    expect(seen.filter((m) => m.data.type === "server.state_changed").map((m) => m.data.to_state)).toEqual([
      "provisioning",
      "running",
    ]);
    const all = ids(feed.messages);
    expect(all).toEqual([...all].sort((x, y) => x - y));
    expect(new Set(all).size).toBe(all.length);

    // While nobody listens, the server stops; the feed resumed from the last id sees exactly what came after.
    const last = feed.messages.at(-1)?.id as string;
    expect(Number(last)).toBeGreaterThanOrEqual(Number(running[0]?.id));
    expect((await ctx.api.post(`/servers/${id}/action`, { action: "stop" })).status).toBe(202);
    await eventually(async () =>
      (await ctx.api.get(`/servers/${id}`)).body.state === "stopped" ? true : undefined,
    );
    const resumed = await openFeed(feedUrl(), { "last-event-id": last });
    await resumed.until((m) => ofServer(id)(m) && toState("stopped")(m));
    await resumed.close();
    const after = ids(resumed.messages);
    expect(after[0]).toBeGreaterThan(Number(last));
    expect(after).toEqual([...after].sort((x, y) => x - y));
    expect(
      resumed.messages.filter((m) => m.data.type === "server.state_changed").map((m) => m.data.to_state),
    ).toEqual(["stopping", "stopped"]);
  });

  it("says first which events it no longer has when Last-Event-ID is older than the stream keeps", async () => {
    const bus = await busOf(ctx.stack);
    try {
      const stream = eventStreamName(bus);
      const jsm = await jetstreamManager(bus.nc);
      const { state } = await jsm.streams.info(stream);
      // What retention does after 7 days: the oldest events are gone.
      await jsm.streams.purge(stream, { seq: state.last_seq });
      const feed = await openFeed(feedUrl(), { "last-event-id": "1" });
      const [skipped] = await feed.until((m) => m.data.type === "feed.skipped");
      await feed.close();
      expect(feed.messages[0]).toBe(skipped);
      expect(skipped?.data).toMatchObject({ skipped_from: 2, skipped_to: state.last_seq - 1 });
      expect(skipped?.id).toBe(String(state.last_seq - 1));
      expect(skipped?.data.message).toMatch(/no longer in the events stream/);
    } finally {
      await bus.close();
    }
  });

  it("filters by server_id, type and region", async () => {
    const feed = await openFeed(feedUrl("?type=server.state_changed&region=eu-west-1"));
    const elsewhere = await ctx.api.post("/servers", { region: "us-east-1", type: "t2.micro" });
    const here = await ctx.api.post("/servers", { region: "eu-west-1", type: "t2.micro" });
    const [provisioning] = await feed.until((m) => ofServer(here.body.id)(m));
    // From just before the server was made: every one of its events, and no other.
    const byId = await openFeed(feedUrl(`?server_id=${here.body.id}`), {
      "last-event-id": String(Number(provisioning?.id) - 1),
    });
    await feed.until((m) => ofServer(here.body.id)(m) && toState("running")(m));
    await byId.until((m) => m.data.type === "billing.started");
    await feed.close();
    await byId.close();
    // The feed was reading while the other server was made: it never showed it, nor billing.
    expect(feed.messages.filter(ofServer(elsewhere.body.id))).toEqual([]);
    expect(new Set(feed.messages.map((m) => m.data.type))).toEqual(new Set(["server.state_changed"]));
    expect(byId.messages.every(ofServer(here.body.id))).toBe(true);
  });

  it("keeps an idle feed open with heartbeat comments", async () => {
    const feed = await openFeed(feedUrl("?server_id=00000000-0000-7000-8000-000000000000"));
    await eventually(async () => (feed.comments.length >= 2 ? true : undefined), 5_000, "two heartbeats");
    await feed.close();
    expect(feed.comments.slice(0, 2)).toEqual(["feed open", "heartbeat"]);
    expect(feed.messages).toEqual([]);
  });

  it("answers a bad filter or Last-Event-ID with 400 naming it", async () => {
    const badType = await ctx.api.get("/events?type=server.exploded");
    expectProblem(badType, 400, "VALIDATION");
    expect(badType.body.detail).toMatch(/type/);
    expect(badType.body.detail).toMatch(/server\.exploded/);
    const badId = await ctx.api.get("/events", { "last-event-id": "yesterday" });
    expectProblem(badId, 400, "VALIDATION");
    expect(badId.body.detail).toMatch(/last-event-id/);
  });
});

describe("GET /events per tenant", () => {
  const ctx = useStack({ env: { ...authEnv, PROVISION_DELAY: "100ms", EVENTS_MAX_STREAMS_PER_TENANT: "2" } });

  it("shows a tenant only its own servers' events, the admin key every tenant's", async () => {
    const a = await newTenant(ctx.stack.url, "feed-a");
    const b = await newTenant(ctx.stack.url, "feed-b");
    const feedA = await openFeed(`${ctx.stack.url}/events`, bearer(a.key));
    const feedB = await openFeed(`${ctx.stack.url}/events`, bearer(b.key));
    const feedAdmin = await openFeed(`${ctx.stack.url}/events`, bearer(ADMIN_KEY));
    const serverA = (
      await keyed(ctx.stack.url, a.key).post("/servers", { region: "us-east-1", type: "t2.micro" })
    ).body.id;
    await feedA.until((m) => ofServer(serverA)(m) && m.data.type === "billing.started");
    // B's own server comes after A's on the stream: B's feed read past all of A's events.
    const serverB = (
      await keyed(ctx.stack.url, b.key).post("/servers", { region: "us-east-1", type: "t2.micro" })
    ).body.id;
    await feedB.until((m) => ofServer(serverB)(m) && m.data.type === "billing.started");
    await feedAdmin.until((m) => ofServer(serverB)(m) && m.data.type === "billing.started");
    for (const feed of [feedA, feedB, feedAdmin]) await feed.close();
    expect(feedB.messages.filter(ofServer(serverA))).toEqual([]);
    expect(feedA.messages.filter(ofServer(serverB))).toEqual([]);
    expect(feedB.messages.length).toBeGreaterThan(0);
    expect(feedAdmin.messages.filter(ofServer(serverA)).length).toBeGreaterThan(0);
  });

  it("refuses a feed past EVENTS_MAX_STREAMS_PER_TENANT with 429, and counts the open ones", async () => {
    const a = await newTenant(ctx.stack.url, "feed-cap");
    const open: Feed[] = [await openFeed(`${ctx.stack.url}/events`, bearer(a.key))];
    open.push(await openFeed(`${ctx.stack.url}/events`, bearer(a.key)));
    const refused = await keyed(ctx.stack.url, a.key).get("/events");
    expectProblem(refused, 429, "RATE_LIMITED");
    expect(refused.body).toMatchObject({ limit: 2, open: 2 });
    // Another tenant is not refused for it.
    const other = await newTenant(ctx.stack.url, "feed-other");
    const theirs = await openFeed(`${ctx.stack.url}/events`, bearer(other.key));
    expect(theirs.res.status).toBe(200);
    const metrics = async () => (await ctx.api.get("/metrics")).body as string;
    expect(sample(await metrics(), "cloudsim_event_feeds_open")).toBe(3);
    for (const feed of [...open, theirs]) await feed.close();
    await eventually(async () =>
      sample(await metrics(), "cloudsim_event_feeds_open") === 0 ? true : undefined,
    );
    expect((await openFeed(`${ctx.stack.url}/events`, bearer(a.key))).res.status).toBe(200);
  });
});

describe("GET /events under load", () => {
  const ctx = useStack({
    env: {
      PROVISION_DELAY: "50ms",
      TERMINATE_DELAY: "50ms",
      EVENTS_MAX_STREAMS_PER_TENANT: "250",
      EVENTS_CLIENT_BUFFER: "4096",
      EVENTS_SLOW_CLIENT_TIMEOUT: "300ms",
    },
  });

  it("cuts off a reader that stopped reading, with a last message saying why, while another keeps flowing", async () => {
    const port = new URL(ctx.stack.url).port;
    const stalled = connect(Number(port), "127.0.0.1");
    await new Promise((resolve) => stalled.once("connect", resolve));
    stalled.write(`GET /events HTTP/1.1\r\nhost: 127.0.0.1\r\naccept: text/event-stream\r\n\r\n`);
    stalled.pause(); // reads nothing from now on
    const healthy = await openFeed(`${ctx.stack.url}/events`);
    // Fat events (50 tags of 256 characters, about 13 kB each) fill the stalled socket's buffers.
    const tags = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`tag${i}`, "x".repeat(256)]));
    const made: string[] = [];
    const metrics = async () => (await ctx.api.get("/metrics")).body as string;
    for (
      let i = 0;
      i < 400 && sample(await metrics(), "cloudsim_event_feeds_cut_total", { reason: "too_slow" }) === 0;
      i++
    ) {
      const created = await ctx.api.post("/servers", { region: "us-east-1", type: "t2.nano", tags });
      made.push(created.body.id);
      if (i % 20 === 19) await new Promise((r) => setTimeout(r, 200));
    }
    await eventually(
      async () =>
        sample(await metrics(), "cloudsim_event_feeds_cut_total", { reason: "too_slow" }) === 1
          ? true
          : undefined,
      10_000,
      "the stalled feed cut off",
    );
    // The healthy feed still flows: a server made after the cut reaches it.
    const after = await ctx.api.post("/servers", { region: "us-east-1", type: "t2.nano" });
    await healthy.until((m) => ofServer(after.body.id)(m) && toState("running")(m));
    await healthy.close();
    expect(healthy.messages.filter((m) => m.data.type === "feed.closed")).toEqual([]);
    // The stalled client, reading at last, finds the end of its feed and why.
    let text = "";
    stalled.setEncoding("utf8");
    stalled.on("data", (chunk: string) => {
      text += chunk;
    });
    stalled.resume();
    await eventually(
      async () => (text.includes('"type":"feed.closed"') ? true : undefined),
      10_000,
      "the last message",
    );
    stalled.destroy();
    expect(text).toMatch(/"reason":"too_slow"/);
    expect(text).toMatch(/EVENTS_SLOW_CLIENT_TIMEOUT/);
    expect(made.length).toBeGreaterThan(10);
  });

  it("serves 200 feeds at once, each with every event", async () => {
    const feeds = await Promise.all(Array.from({ length: 200 }, () => openFeed(`${ctx.stack.url}/events`)));
    expect(feeds.map((f) => f.res.status)).toEqual(Array(200).fill(200));
    const created = await ctx.api.post("/servers", { region: "us-east-1", type: "t2.nano" });
    await Promise.all(
      feeds.map((f) => f.until((m) => ofServer(created.body.id)(m) && toState("running")(m), 1, 20_000)),
    );
    const firstIds = feeds.map((f) => f.messages.find(ofServer(created.body.id))?.id);
    expect(new Set(firstIds).size).toBe(1);
    await Promise.all(feeds.map((f) => f.close()));
  });
});
