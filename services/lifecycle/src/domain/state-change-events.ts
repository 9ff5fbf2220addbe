import {
  type Actor,
  type OutboxEvent,
  type ServerState,
  type ServerStateChanged,
  serverEventSubject,
  uuidv7,
} from "@cloudsim/shared";

export interface EventServer {
  id: string;
  tenantId: string;
  region: string;
  type: string;
  ipAddress: string | null;
  tags: Record<string, string>;
}

type Change = { to: ServerState; actor: Actor; requestId: string | null };

/** What the row a change wrote tells of its event: filled in by the writing statement itself. */
export type EventOfRow = "tenant_id" | "occurred_at" | "from_state" | "server";

/**
 * The event of server `serverId` entering `change.to`, without the fields of EventOfRow: for a
 * statement that decides and writes the change at once and completes the event from its row.
 */
export function partialStateChangedEvent(serverId: string, change: Change) {
  const payload: Omit<ServerStateChanged, EventOfRow> = {
    id: uuidv7(),
    type: "server.state_changed",
    server_id: serverId,
    request_id: change.requestId,
    to_state: change.to,
    actor: change.actor,
  };
  return {
    subject: serverEventSubject(change.to),
    orderingKey: serverId,
    payload,
    requestId: change.requestId,
  } satisfies OutboxEvent;
}

/** The whole event of a server entering `change.to`, as it goes into the outbox. */
export function stateChangedEvent(
  server: EventServer,
  change: Change & { from: ServerState | null; at: Date },
): OutboxEvent {
  const event = partialStateChangedEvent(server.id, change);
  const payload: ServerStateChanged = {
    ...event.payload,
    tenant_id: server.tenantId,
    occurred_at: change.at.toISOString(),
    from_state: change.from,
    server: {
      region: server.region as ServerStateChanged["server"]["region"],
      type: server.type as ServerStateChanged["server"]["type"],
      ip_address: server.ipAddress,
      tags: server.tags,
    },
  };
  return { ...event, payload };
}
