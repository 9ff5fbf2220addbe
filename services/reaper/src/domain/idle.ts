/** Idle means stopped for longer than the timeout; nothing else is ever reaped. */
export function isIdle(state: string, stateSince: Date, now: Date, timeoutMs: number): boolean {
  return state === "stopped" && now.getTime() - stateSince.getTime() > timeoutMs;
}

/** "31m", "2h5m", "90s" → how long, for the server's log. */
export function formatIdle(ms: number): string {
  const totalSeconds = Math.floor(ms / 1000);
  const hours = Math.floor(totalSeconds / 3600);
  const minutes = Math.floor((totalSeconds % 3600) / 60);
  const seconds = totalSeconds % 60;
  if (hours > 0) return minutes > 0 ? `${hours}h${minutes}m` : `${hours}h`;
  if (minutes > 0) return `${minutes}m`;
  return `${seconds}s`;
}

export function isExempt(tags: Record<string, string>, exempt: { key: string; value: string }): boolean {
  return tags[exempt.key] === exempt.value;
}
