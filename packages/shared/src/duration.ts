const unitMs = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
export type DurationUnit = keyof typeof unitMs;

const pattern = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?$/;

/**
 * Parses "500ms", "2s", "30m", "2h", "1d" into milliseconds. A bare number is read in
 * `bareUnit` (IDLE_TIMEOUT=30 means minutes, PROVISION_DELAY=2 means seconds).
 * Returns undefined when the text is not a duration.
 */
export function parseDuration(text: string, bareUnit: DurationUnit): number | undefined {
  const match = pattern.exec(text.trim().toLowerCase());
  if (!match) return undefined;
  const unit = (match[2] ?? bareUnit) as DurationUnit;
  return Math.round(Number(match[1]) * unitMs[unit]);
}
