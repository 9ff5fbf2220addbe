import { afterEach, describe, expect, it, vi } from "vitest";
import { uuidv7 } from "./ids.ts";

const v7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe("uuidv7", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  // Dates ahead of the real clock: the uuid package never goes back before an id it made already.
  it("is a version 7, RFC 9562 variant UUID whose first 48 bits are the time in milliseconds", () => {
    const at = Date.UTC(2030, 10, 26, 5, 20, 0, 123);
    vi.useFakeTimers({ now: at });
    const id = uuidv7();
    expect(id).toMatch(v7);
    expect(Number.parseInt(id.replace("-", "").slice(0, 12), 16)).toBe(at);
  });

  it("sorts in the order made, within one millisecond too, and never repeats", () => {
    vi.useFakeTimers({ now: Date.UTC(2030, 10, 26, 5, 21) });
    const ids: string[] = [];
    for (let ms = 0; ms < 50; ms++) {
      for (let i = 0; i < 100; i++) ids.push(uuidv7());
      vi.advanceTimersByTime(1);
    }
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(v7);
    expect([...ids].sort()).toEqual(ids);
  });
});
