/** What a label change asks: every label replaced, or some removed (null: all) and some added. */
export interface LabelChange {
  replace?: string[] | undefined;
  add: string[];
  remove: string[] | null;
}

/** The labels after `change`, each once, sorted (Nova's tags are a set). */
export function nextLabels(current: readonly string[], change: LabelChange): string[] {
  const { replace, add, remove } = change;
  const base = replace ?? (remove === null ? [] : current.filter((l) => !remove.includes(l)));
  return [...new Set([...base, ...add])].sort();
}
