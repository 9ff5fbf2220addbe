import { currentTraceparent, ROOT_DEVICE, type RootVolume } from "@cloudsim/shared";
import { type SQL, sql } from "drizzle-orm";
import { volumeStateChanged } from "./events.ts";

/** A new server's root volume, with the id it will have and its tags. */
export type RootVolumeWrite = RootVolume & { id: string; tags: Record<string, string> };

/** The root volume of one server being inserted: ready (attached at ROOT_DEVICE) when the server's provisioning ends. */
export interface NewRootVolume {
  serverId: string;
  tenantId: string;
  region: string;
  volume: RootVolumeWrite;
  /** The server's provisioning delay: its root volume is created and attached in that time. */
  delayMs: number;
  requestId: string;
}

/**
 * The part of insertServers' statement that stores each new server's root volume, creating and
 * attaching, with its event: CTEs after the statement's `server` CTE (whose rows it joins, so a
 * server not stored gets no volume), at the server's own created_at.
 */
export function insertRootVolumes(roots: readonly NewRootVolume[]): SQL {
  const rows = roots.map(({ serverId, tenantId, region, volume, delayMs, requestId }) => {
    const event = volumeStateChanged(
      {
        id: volume.id,
        volume_id: `vol-${volume.id.replaceAll("-", "").slice(-17)}`,
        tenant_id: tenantId,
        region,
        size_gib: volume.size_gib,
        type: volume.volume_type,
      },
      // occurred_at is the server's created_at, set by the statement.
      { from: null, to: "creating", at: new Date(0), requestId },
    );
    return {
      id: volume.id,
      server_id: serverId,
      size_gib: volume.size_gib,
      type: volume.volume_type,
      iops: volume.iops,
      throughput: volume.throughput,
      encrypted: volume.encrypted,
      delete_on_termination: volume.delete_on_termination,
      tags: volume.tags,
      delay_s: delayMs / 1000,
      request_id: requestId,
      event_id: event.payload.id,
      subject: event.subject,
      payload: event.payload,
    };
  });
  return sql`, root_input AS (
      SELECT r.*, server.tenant_id, server.region, server.availability_zone, server.updated_at::timestamptz AS at,
        server.updated_at AS occurred_at
      FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) AS r(id uuid, server_id uuid, size_gib integer,
        type text, iops integer, throughput integer, encrypted boolean, delete_on_termination boolean,
        tags jsonb, delay_s float8, request_id text, event_id uuid, subject text, payload jsonb)
      JOIN server ON server.id = r.server_id
    ), root_volumes AS (
      INSERT INTO lifecycle.volumes (id, tenant_id, region, availability_zone, size_gib, type, iops, throughput,
        encrypted, state, tags, server_id, device, attachment_state, attach_time, delete_on_termination, created_at,
        updated_at, due_at, pending_request_id)
      SELECT id, tenant_id, region, availability_zone, size_gib, type, iops, throughput, encrypted, 'creating', tags,
        server_id, ${ROOT_DEVICE}, 'attaching', at, delete_on_termination, at, at,
        at + make_interval(secs => delay_s), request_id
      FROM root_input
    ), root_published AS (
      INSERT INTO lifecycle.outbox (event_id, subject, ordering_key, payload, request_id, traceparent)
      SELECT event_id, subject, id::text, jsonb_set(payload, '{occurred_at}', to_jsonb(occurred_at)), request_id,
        ${currentTraceparent()}
      FROM root_input
    )`;
}
