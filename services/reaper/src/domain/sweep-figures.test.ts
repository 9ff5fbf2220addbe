import { describe, expect, it } from "vitest";
import { figuresOf, noFigures } from "./sweep-figures.ts";

describe("figuresOf", () => {
  it("counts nothing for a sweep that found nothing", () => {
    expect(figuresOf([])).toEqual({ figures: noFigures(), byTenant: new Map() });
  });

  it("counts each decision overall and for its tenant", () => {
    const { figures, byTenant } = figuresOf([
      { tenantId: "t1", decision: "reaped" },
      { tenantId: "t1", decision: "error" },
      { tenantId: "t2", decision: "spared" },
      { tenantId: "t1", decision: "reaped" },
    ]);
    expect(figures).toEqual({ candidates: 4, reaped: 2, spared: 1, errors: 1 });
    expect(Object.fromEntries(byTenant)).toEqual({
      t1: { candidates: 3, reaped: 2, spared: 0, errors: 1 },
      t2: { candidates: 1, reaped: 0, spared: 1, errors: 0 },
    });
  });
});
