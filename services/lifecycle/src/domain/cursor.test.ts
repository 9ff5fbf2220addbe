import { describe, expect, it } from "vitest";
import { decodeCursor, encodeCursor, isSequence, isUuid } from "./cursor.ts";

describe("cursors", () => {
  it("round-trip a key", () => {
    const id = "0193a0b2-7c3e-7000-8000-000000000001";
    expect(decodeCursor(encodeCursor(id), isUuid)).toBe(id);
    expect(decodeCursor(encodeCursor("42"), isSequence)).toBe("42");
  });
  it("refuse anything else as a VALIDATION error naming the cursor", () => {
    for (const bad of ["", "not-base64!", encodeCursor("x"), encodeCursor("1; drop table")]) {
      expect(() => decodeCursor(bad, isUuid)).toThrow(expect.objectContaining({ code: "VALIDATION" }));
    }
    expect(() => decodeCursor(encodeCursor("9".repeat(19)), isSequence)).toThrow(/cursor/);
  });
});
