import { describe, expect, it } from "vitest";
import { mapConcurrent } from "./concurrency.ts";

describe("mapConcurrent", () => {
  it("keeps order and never exceeds the limit", async () => {
    let inFlight = 0;
    let most = 0;
    const out = await mapConcurrent([5, 1, 4, 2, 3, 0], 2, async (n) => {
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise((r) => setTimeout(r, n));
      inFlight--;
      return n * 10;
    });
    expect(out).toEqual([50, 10, 40, 20, 30, 0]);
    expect(most).toBe(2);
  });
  it("handles nothing", async () => {
    expect(await mapConcurrent([], 3, async (n: number) => n)).toEqual([]);
  });
});
