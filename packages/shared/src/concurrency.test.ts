import { describe, expect, it } from "vitest";
import { batched, mapConcurrent } from "./concurrency.ts";

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

describe("batched", () => {
  const recording = () => {
    const batches: number[][] = [];
    let release = () => {};
    const run = batched(async (items: number[]) => {
      batches.push(items);
      if (items.includes(-1)) throw new Error("refused");
      await new Promise<void>((resolve) => {
        release = resolve;
      });
      return items.map((n) => n * 10);
    }, 3);
    return { batches, run, release: () => release() };
  };

  it("sends a lone call at once, and what piles up meanwhile as the next batches, up to the most", async () => {
    const { batches, run, release } = recording();
    const first = run(1);
    const rest = [2, 3, 4, 5].map(run);
    expect(batches).toEqual([[1]]);
    release();
    expect(await first).toBe(10);
    await new Promise((r) => setTimeout(r, 0));
    expect(batches).toEqual([[1], [2, 3, 4]]);
    release();
    await new Promise((r) => setTimeout(r, 0));
    release();
    expect(await Promise.all(rest)).toEqual([20, 30, 40, 50]);
    expect(batches).toEqual([[1], [2, 3, 4], [5]]);
  });

  it("fails every call of a failed batch, and goes on with the next", async () => {
    const { batches, run, release } = recording();
    const first = run(1);
    const failing = [run(2), run(-1)];
    release();
    await first;
    for (const call of failing) await expect(call).rejects.toThrow("refused");
    const after = run(3);
    release();
    expect(await after).toBe(30);
    expect(batches).toEqual([[1], [2, -1], [3]]);
  });
});
