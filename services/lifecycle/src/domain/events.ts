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

/** The event of a server entering `to`, as it goes into the outbox. */
export function stateChanged(
  server: EventServer,
  change: { from: ServerState | null; to: ServerState; actor: Actor; requestId: string | null; at: Date },
): OutboxEvent {
  const payload: ServerStateChanged = {
    id: uuidv7(),
    type: "server.state_changed",
    tenant_id: server.tenantId,
    occurred_at: change.at.toISOString(),
    server_id: server.id,
    request_id: change.requestId,
    from_state: change.from,
    to_state: change.to,
    actor: change.actor,
    server: {
      region: server.region as ServerStateChanged["server"]["region"],
      type: server.type as ServerStateChanged["server"]["type"],
      ip_address: server.ipAddress,
      tags: server.tags,
    },
  };
  return {
    subject: serverEventSubject(change.to),
    orderingKey: server.id,
    payload,
    requestId: change.requestId,
  };
}
