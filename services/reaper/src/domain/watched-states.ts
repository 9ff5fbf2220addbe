/** What an event says about a server: its state since `at` (the event's occurred_at). */
export interface WatchedEvent {
  serverId: string;
  state: string;
  at: Date;
  exempt: boolean;
  tenantId: string;
  /** Who made the change: a termination the reaper asked for is its decision, heard or not. */
  actor: string;
}

/** An event to write over its server's row, if the row is older. */
export interface StateWrite extends WatchedEvent {
  /** Record the reaper's decision as reaped: it asked for the termination this batch holds. */
  reaped: boolean;
}

/**
 * The writes that leave a batch of events (in stream order) as if they had come one by one, each
 * write at most one event per server, as Postgres updates a row once per statement: each
 * server's newest event, after the stops a newer event of the batch replaced.
 */
export function statesToWrite(events: readonly WatchedEvent[]): StateWrite[][] {
  // The first of equal times: one by one, a later one would not be newer.
  const latest = new Map<string, { newest: WatchedEvent; stop?: WatchedEvent }>();
  for (const e of events) {
    const seen = latest.get(e.serverId);
    if (seen && e.at.getTime() <= seen.newest.at.getTime()) continue;
    latest.set(e.serverId, { newest: e, stop: e.state === "stopped" ? e : seen?.stop });
  }
  // One by one, a stop that a newer event then replaced still cleared the last decision.
  const replacedStops = [...latest.values()].flatMap((l) => (l.stop && l.stop !== l.newest ? [l.stop] : []));
  // The reaper's termination counts even when the newest event of the batch is a later one.
  const reaped = new Set(
    events.filter((e) => e.state === "terminating" && e.actor === "reaper").map((e) => e.serverId),
  );
  const write = (e: WatchedEvent): StateWrite => ({
    ...e,
    reaped: e.state !== "stopped" && reaped.has(e.serverId),
  });
  return [replacedStops, [...latest.values()].map((l) => l.newest)]
    .filter((batch) => batch.length > 0)
    .map((batch) => batch.map(write));
}
