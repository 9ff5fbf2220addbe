import { describe, expect, it } from "vitest";
import { announcementsOf } from "./announcements.ts";
import type { Interval } from "./bill.ts";
import { parseMoney } from "./money.ts";

const t0 = Date.parse("2025-01-01T00:00:00.000Z");
const interval = (closed: boolean): Interval => ({
  openedBy: "opener",
  closedBy: closed ? "closer" : null,
  from: t0,
  to: t0 + 90_000,
  rate: parseMoney("0.01"),
  billedMs: 90_000n,
  amount: parseMoney("0.015"),
});
const event = { server_id: "s1", request_id: "r1" };

describe("announcementsOf", () => {
  it("announces nothing for an event that opened and closed nothing", () => {
    expect(announcementsOf(event, { opened: undefined, closed: undefined }, "USD")).toEqual([]);
  });

  it("announces billing.started when the interval opens, at its start", () => {
    expect(announcementsOf(event, { opened: interval(false), closed: undefined }, "USD")).toEqual([
      {
        server_id: "s1",
        request_id: "r1",
        currency: "USD",
        id: expect.any(String),
        type: "billing.started",
        occurred_at: "2025-01-01T00:00:00.000Z",
        rate: "0.010000",
      },
    ]);
  });

  it("announces billing.stopped with what the closed interval cost, at its end", () => {
    const [stopped] = announcementsOf(event, { opened: undefined, closed: interval(true) }, "EUR");
    expect(stopped).toMatchObject({
      type: "billing.stopped",
      occurred_at: "2025-01-01T00:01:30.000Z",
      currency: "EUR",
      rate: "0.010000",
      amount: "0.015000",
      billable_seconds: 90,
    });
  });

  it("announces the start before the stop when one event does both, each with an id of its own", () => {
    const both = announcementsOf(event, { opened: interval(false), closed: interval(true) }, "USD");
    expect(both.map((a) => a.type)).toEqual(["billing.started", "billing.stopped"]);
    expect(both[0]?.id).not.toBe(both[1]?.id);
  });
});
