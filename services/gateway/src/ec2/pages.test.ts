import { describe, expect, it } from "vitest";
import { Ec2Error } from "./errors.ts";
import { collectAll, collectPages } from "./pages.ts";

/** A describe command over 0..n-1: pages of `limit` after the cursor, which is the last item given. */
const numbers = (n: number, asked: number[] = []) => {
  const all = Array.from({ length: n }, (_, i) => i);
  return async (limit: number, cursor: string | undefined) => {
    asked.push(limit);
    const start = cursor === undefined ? 0 : Number(cursor) + 1;
    const items = all.slice(start, start + limit);
    const last = items[items.length - 1];
    return { items, next_cursor: start + limit < n && last !== undefined ? String(last) : null };
  };
};

describe("collectPages", () => {
  it("reads pages until it has what was wanted, asking no more than it still wants", async () => {
    const asked: number[] = [];
    const { items, nextToken } = await collectPages(numbers(25, asked), { pageSize: 10, wanted: 15 });
    expect(items).toEqual(Array.from({ length: 15 }, (_, i) => i));
    expect(asked).toEqual([10, 5]);
    expect(nextToken).toBe("14");
    const rest = await collectPages(numbers(25), { pageSize: 10, wanted: 100, cursor: nextToken });
    expect(rest.items).toEqual(Array.from({ length: 10 }, (_, i) => i + 15));
    expect(rest.nextToken).toBeUndefined();
  });
});

describe("collectAll", () => {
  it("answers every item up to the most, and refuses more, saying how to narrow it", async () => {
    expect(await collectAll(numbers(30), 10, 30, "things")).toHaveLength(30);
    const refused = collectAll(numbers(31), 10, 30, "things");
    await expect(refused).rejects.toBeInstanceOf(Ec2Error);
    await expect(refused).rejects.toThrow("More than 30 things match");
  });
});
