import { describe, expect, it } from "vitest";
import { MAX_SCANNED, PAGE_BYTES, SCAN_CHUNK, scanPage } from "./paging.ts";
import { retagged } from "./tags.ts";

const keys = (n: number) => Array.from({ length: n }, (_, i) => String(i).padStart(6, "0"));
/** Reads from sorted keys, as a keyset query would. */
const reader = (all: readonly string[]) => async (after: string | undefined, count: number) =>
  all.filter((k) => after === undefined || k > after).slice(0, count);

async function allPages(all: readonly string[], keep: (k: string) => boolean, limit: number) {
  const pages: string[][] = [];
  let cursor: string | undefined;
  do {
    const page = await scanPage(reader(all), (k) => k, keep, limit, cursor);
    pages.push(page.items);
    cursor = page.next_cursor ?? undefined;
  } while (cursor !== undefined);
  return pages;
}

describe("describe pages", () => {
  it("pages what the filter keeps, each item once, the last page without a cursor", async () => {
    const all = keys(1000);
    const even = (k: string) => Number(k) % 2 === 0;
    const pages = await allPages(all, even, 150);
    expect(pages.flat()).toEqual(all.filter(even));
    expect(pages.slice(0, -1).every((p) => p.length === 150)).toBe(true);
  });

  it("answers a cursor after scanning at most MAX_SCANNED rows, even with nothing kept", async () => {
    const all = keys(MAX_SCANNED + 3 * SCAN_CHUNK);
    const page = await scanPage(
      reader(all),
      (k) => k,
      () => false,
      10,
      undefined,
    );
    expect(page.items).toEqual([]);
    expect(page.next_cursor).toBe(all[MAX_SCANNED - 1]);
  });

  it("stops a page before its items outgrow PAGE_BYTES, the next starting at the item left out", async () => {
    const big = Array.from({ length: 20 }, (_, i) => ({
      id: String(i).padStart(2, "0"),
      blob: "x".repeat(PAGE_BYTES / 8),
    }));
    const read = async (after: string | undefined, count: number) =>
      big.filter((r) => after === undefined || r.id > after).slice(0, count);
    const first = await scanPage(
      read,
      (r) => r.id,
      () => true,
      1000,
      undefined,
    );
    expect(first.items.length).toBeLessThan(10);
    const second = await scanPage(
      read,
      (r) => r.id,
      () => true,
      1000,
      first.next_cursor ?? undefined,
    );
    expect(second.items[0]?.id).toBe(big[first.items.length]?.id);
  });
});

describe("retagging", () => {
  it("sets over the tags, removes by key, by key and value, or all", () => {
    const tags = { a: "1", b: "2", c: "" };
    expect(retagged(tags, { d: "4" }, [])).toEqual({ ...tags, d: "4" });
    expect(retagged(tags, {}, [{ key: "a" }, { key: "b", value: "nope" }, { key: "c", value: "" }])).toEqual({
      b: "2",
    });
    expect(retagged(tags, { z: "0" }, null)).toEqual({ z: "0" });
  });
});
