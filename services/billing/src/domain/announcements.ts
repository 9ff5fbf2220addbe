import { type BillingEvent, type ServerStateChanged, uuidv7 } from "@cloudsim/shared";
import type { Interval } from "./bill.ts";
import { formatMoney, secondsOf } from "./money.ts";

/** What billing publishes about an event: billing.started for the interval it opened, billing.stopped for the one it closed. */
export function announcementsOf(
  event: Pick<ServerStateChanged, "server_id" | "request_id">,
  intervals: { opened: Interval | undefined; closed: Interval | undefined },
  currency: string,
): BillingEvent[] {
  const base = { server_id: event.server_id, request_id: event.request_id, currency };
  const { opened, closed } = intervals;
  const announcements: BillingEvent[] = [];
  if (opened)
    announcements.push({
      ...base,
      id: uuidv7(),
      type: "billing.started",
      occurred_at: new Date(opened.from).toISOString(),
      rate: formatMoney(opened.rate),
    });
  if (closed)
    announcements.push({
      ...base,
      id: uuidv7(),
      type: "billing.stopped",
      occurred_at: new Date(closed.to).toISOString(),
      rate: formatMoney(closed.rate),
      amount: formatMoney(closed.amount),
      billable_seconds: secondsOf(closed.billedMs),
    });
  return announcements;
}
