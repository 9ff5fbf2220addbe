import { describe, expect, it } from "vitest";
import { uuidv7 } from "./ids.ts";

const v7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe("uuidv7", () => {
  it("is a version 7, RFC 9562 variant UUID whose first 48 bits are the time in milliseconds", () => {
    const at = Date.UTC(2026, 10, 26, 5, 20, 0, 123);
    const id = uuidv7(at);
    expect(id).toMatch(v7);
    expect(Number.parseInt(id.replace("-", "").slice(0, 12), 16)).toBe(at);
  });

  it("sorts by time, and never repeats across many refills of its random bytes", () => {
    const ids = Array.from({ length: 5_000 }, (_, i) => uuidv7(1_000_000 + Math.floor(i / 100)));
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(v7);
    const times = ids.map((id) => id.slice(0, 13));
    expect([...times].sort()).toEqual(times);
    // The random part differs even within one millisecond.
    expect(new Set(ids.slice(0, 100).map((id) => id.slice(14))).size).toBe(100);
  });
});
