import { describe, expect, it } from "vitest";
import { statesToWrite, type WatchedEvent } from "./watched-states.ts";

const t0 = Date.parse("2026-01-01T00:00:00Z");
const ev = (serverId: string, state: string, seconds: number, actor = "user"): WatchedEvent => ({
  serverId,
  state,
  at: new Date(t0 + seconds * 1000),
  exempt: false,
  tenantId: "default",
  actor,
});
const shape = (writes: ReturnType<typeof statesToWrite>) =>
  writes.map((batch) => batch.map((w) => `${w.serverId}:${w.state}${w.reaped ? ":reaped" : ""}`));

describe("statesToWrite", () => {
  it("writes nothing for no events", () => {
    expect(statesToWrite([])).toEqual([]);
  });

  it("writes each server's newest event once; an older or equal one after it changes nothing", () => {
    const events = [
      ev("a", "running", 1),
      ev("b", "running", 1),
      ev("a", "stopping", 2),
      ev("a", "pending", 2),
    ];
    expect(shape(statesToWrite(events))).toEqual([["a:stopping", "b:running"]]);
    expect(shape(statesToWrite([ev("a", "stopping", 2), ev("a", "running", 1)]))).toEqual([["a:stopping"]]);
  });

  it("writes a stop a newer event of the batch replaced first, so it still clears the last decision", () => {
    const events = [ev("a", "stopped", 1), ev("a", "pending", 2), ev("b", "stopped", 1)];
    expect(shape(statesToWrite(events))).toEqual([["a:stopped"], ["a:pending", "b:stopped"]]);
  });

  it("records the reaper's termination as reaped, even when a later event is the newest", () => {
    const events = [
      ev("a", "terminating", 1, "reaper"),
      ev("a", "terminated", 2, "lifecycle"),
      ev("b", "terminating", 1),
    ];
    expect(shape(statesToWrite(events))).toEqual([["a:terminated:reaped", "b:terminating"]]);
  });

  it("never records a stop as reaped", () => {
    const events = [ev("a", "terminating", 1, "reaper"), ev("a", "stopped", 2)];
    expect(shape(statesToWrite(events))).toEqual([["a:stopped"]]);
  });
});
