import { describe, expect, it } from "vitest";
import { encodeCursor } from "./cursor.ts";
import { tagPage, tagsAfter } from "./tag-cursor.ts";

const tag = (resource_id: string, key: string) => ({ resource_id, key, value: "" });

describe("DescribeTags pages", () => {
  it("give the next page's cursor only when more rows were read than fit, and it continues after the last", () => {
    const rows = [tag("i-1", "a"), tag("i-1", "b"), tag("i-2", "a")];
    const first = tagPage(rows, 2);
    expect(first.items).toEqual(rows.slice(0, 2));
    expect(tagsAfter(first.next_cursor ?? undefined)).toEqual(["i-1", "b"]);
    expect(tagPage(rows, 3).next_cursor).toBeNull();
  });
  it("keep a key with a line break whole", () => {
    expect(tagsAfter(tagPage([tag("i-1", "a\nb"), tag("i-2", "c")], 1).next_cursor ?? undefined)).toEqual([
      "i-1",
      "a\nb",
    ]);
  });
  it("start at the beginning without a cursor, and refuse one that is no tag position", () => {
    expect(tagsAfter(undefined)).toBeUndefined();
    expect(() => tagsAfter(encodeCursor("no-line"))).toThrow(expect.objectContaining({ code: "VALIDATION" }));
    expect(() => tagsAfter(encodeCursor("\nkey"))).toThrow(/cursor/);
  });
});
