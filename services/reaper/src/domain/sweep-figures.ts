export type Decision = "reaped" | "spared" | "error";

/** What a sweep found idle and decided, of all servers or of one tenant's. */
export interface SweepFigures {
  candidates: number;
  reaped: number;
  spared: number;
  errors: number;
}

export const noFigures = (): SweepFigures => ({ candidates: 0, reaped: 0, spared: 0, errors: 0 });

/** Counts one decision into `figures`. */
function tally(figures: SweepFigures, decision: Decision) {
  figures.candidates++;
  if (decision === "error") figures.errors++;
  else figures[decision]++;
}

/** A sweep's figures, overall and for each tenant it decided about. */
export function figuresOf(decisions: readonly { tenantId: string; decision: Decision }[]): {
  figures: SweepFigures;
  byTenant: Map<string, SweepFigures>;
} {
  const figures = noFigures();
  const byTenant = new Map<string, SweepFigures>();
  for (const d of decisions) {
    tally(figures, d.decision);
    const ofTenant = byTenant.get(d.tenantId) ?? noFigures();
    tally(ofTenant, d.decision);
    byTenant.set(d.tenantId, ofTenant);
  }
  return { figures, byTenant };
}
