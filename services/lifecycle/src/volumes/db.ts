import {
  AppError,
  type Clock,
  clockDate,
  type Db,
  isUniqueViolation,
  outboxInserter,
  type ServerState,
  uuidv7,
  type Volume,
  type VolumeAttachment,
  type VolumeFilter,
  type VolumeSpec,
  type VolumeState,
} from "@cloudsim/shared";
import { type SQL, sql } from "drizzle-orm";
import { instancesNotFound } from "../db/instances.ts";
import { allOf, filterCondition } from "../db/resource-filters.ts";
import type { ResourceScope, TaggedResources } from "../db/resource-tags.ts";
import { outbox } from "../db/schema.ts";
import { isoMs } from "../db/server-rows.ts";
import { requestHash } from "../domain/idempotency.ts";
import { attachRefusal, deleteRefusal, detachRefusal, type VolumeFacts } from "../domain/volume-rules.ts";
import type { AttachmentState, VolumeDelays } from "../domain/volume-states.ts";
import { volumeStateChanged } from "./events.ts";

/** NOT_FOUND for volume ids, as EC2 words it. */
export const volumesNotFound = (ids: readonly string[]) =>
  new AppError(
    "NOT_FOUND",
    ids.length === 1
      ? `The volume '${ids[0]}' does not exist.`
      : `The volumes '${ids.join(", ")}' do not exist.`,
    { volume_ids: ids },
  );

/** A deleted volume is gone from EC2's API: only the timer and billing's events remember it. */
const VISIBLE = "state <> 'deleted'";

export const taggedVolumes: TaggedResources = {
  table: "lifecycle.volumes",
  idColumn: "volume_id",
  visible: VISIBLE,
  notFound: volumesNotFound,
};

/** A volume as the API shows it, over `lifecycle.volumes v` joined to the server it is attached to (`s`). */
const volumeView = sql.raw(`
  v.id, v.volume_id, v.region, v.availability_zone, v.size_gib, v.type AS volume_type, v.iops, v.throughput,
  v.encrypted, v.state, ${isoMs("v.created_at")} AS created_at, v.tags,
  CASE WHEN v.server_id IS NULL THEN NULL ELSE jsonb_build_object('instance_id', s.instance_id,
    'volume_id', v.volume_id, 'device', v.device, 'status', v.attachment_state,
    'attach_time', ${isoMs("v.attach_time")}, 'delete_on_termination', v.delete_on_termination) END AS attachment`);

const fromVolumes = sql.raw("lifecycle.volumes v LEFT JOIN lifecycle.servers s ON s.id = v.server_id");

/** What each DescribeVolumes filter compares, over the view. */
const filterColumns: Record<string, string> = {
  "volume-id": "volume_id",
  status: "state",
  "availability-zone": "availability_zone",
  size: "size_gib",
  "volume-type": "volume_type",
  "attachment.instance-id": "attachment ->> 'instance_id'",
  "attachment.device": "attachment ->> 'device'",
  "attachment.status": "attachment ->> 'status'",
  "attachment.attach-time": "attachment ->> 'attach_time'",
  "attachment.delete-on-termination": "attachment ->> 'delete_on_termination'",
  encrypted: "encrypted",
  "create-time": "created_at",
  "multi-attach-enabled": "false",
};

const inScope = ({ tenantId, region }: ResourceScope) =>
  sql`(${tenantId}::text IS NULL OR v.tenant_id = ${tenantId}) AND v.region = ${region} AND v.${sql.raw(VISIBLE)}`;

const serverInScope = ({ tenantId, region }: ResourceScope) =>
  sql`(${tenantId}::text IS NULL OR s.tenant_id = ${tenantId}) AND s.region = ${region}`;

interface LockedVolume extends Record<string, unknown> {
  id: string;
  volume_id: string;
  tenant_id: string;
  region: string;
  size_gib: number;
  type: string;
  state: VolumeState;
  availability_zone: string;
  server_id: string | null;
  instance_id: string | null;
  device: string | null;
  attachment_state: AttachmentState | null;
}

const factsOf = (v: LockedVolume): VolumeFacts => ({
  volumeId: v.volume_id,
  state: v.state,
  zone: v.availability_zone,
  attachment:
    v.server_id && v.device && v.attachment_state
      ? { instanceId: v.instance_id ?? "", device: v.device, state: v.attachment_state }
      : null,
});

const insertOutbox = outboxInserter(outbox);

/**
 * lifecycle's volumes: made, listed, attached, detached and deleted per tenant and region. Every
 * change is one transaction with its event, at `clock`'s time; a timed state gets its due time.
 * Locks go server first, then volume, as the timer's release of an ended server's volumes does.
 */
export class VolumeRepository {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly delays: VolumeDelays,
  ) {}

  /**
   * A new volume in creating (VOLUME_CREATE_DELAY), with its event. With a ClientToken, a retry
   * of the same request answers the volume it made; the token with another request is CONFLICT.
   */
  async create(
    owner: { tenantId: string; region: string; zone: string },
    spec: VolumeSpec,
    tags: Record<string, string>,
    request: { requestId: string; clientToken?: string | undefined },
  ): Promise<Volume> {
    const hash = requestHash({ zone: owner.zone, spec, tags });
    const { requestId, clientToken = null } = request;
    if (clientToken !== null) {
      const earlier = await this.byClientToken(owner, clientToken, hash);
      if (earlier) return earlier;
    }
    const id = uuidv7();
    const at = clockDate(this.clock);
    const due = new Date(at.getTime() + this.delays.VOLUME_CREATE_DELAY);
    try {
      return await this.db.transaction(async (tx) => {
        const [row] = (
          await tx.execute<LockedVolume>(sql`
            INSERT INTO lifecycle.volumes (id, tenant_id, region, availability_zone, size_gib, type, iops, throughput,
              encrypted, state, tags, created_at, updated_at, due_at, pending_request_id, client_token, request_hash)
            VALUES (${id}, ${owner.tenantId}, ${owner.region}, ${owner.zone}, ${spec.size_gib}, ${spec.volume_type},
              ${spec.iops}, ${spec.throughput}, ${spec.encrypted}, 'creating', ${JSON.stringify(tags)}::jsonb,
              ${at}::timestamptz, ${at}::timestamptz, ${due}::timestamptz, ${requestId}, ${clientToken}, ${hash})
            RETURNING *`)
        ).rows;
        if (!row) throw new Error("insert returned no row");
        await tx.execute(
          insertOutbox([volumeStateChanged(row, { from: null, to: "creating", at, requestId })]),
        );
        return this.one(tx, row.id);
      });
    } catch (err) {
      // The same token raced in another request, which stored first: answer as a retry would.
      const winner =
        clientToken !== null && isUniqueViolation(err, "volumes_client_token_key")
          ? await this.byClientToken(owner, clientToken, hash)
          : undefined;
      if (winner) return winner;
      throw err;
    }
  }

  private async byClientToken(
    owner: { tenantId: string; region: string },
    token: string,
    hash: string,
  ): Promise<Volume | undefined> {
    const [earlier] = (
      await this.db.execute<{ id: string; request_hash: string }>(sql`
        SELECT id, request_hash FROM lifecycle.volumes
        WHERE tenant_id = ${owner.tenantId} AND region = ${owner.region} AND client_token = ${token}`)
    ).rows;
    if (!earlier) return undefined;
    if (earlier.request_hash !== hash)
      throw new AppError(
        "CONFLICT",
        "Arguments on this idempotent request are inconsistent with arguments used in previous request(s).",
        { reason: "idempotent_mismatch", client_token: token },
      );
    return this.one(this.db, earlier.id);
  }

  /** Volumes oldest first, `limit` after the UUID `after`; NOT_FOUND naming every id the scope does not hold. */
  async page(
    scope: ResourceScope,
    where: { ids?: readonly string[] | undefined; filters: readonly VolumeFilter[] },
    after: string | undefined,
    limit: number,
  ): Promise<Volume[]> {
    if (where.ids && after === undefined) await this.resolve(scope, where.ids);
    const conditions: SQL[] = where.filters.map((f) => filterCondition(f, filterColumns));
    if (where.ids) conditions.push(sql`volume_id = ANY(${sql.param(where.ids)}::text[])`);
    if (after !== undefined) conditions.push(sql`id > ${after}::uuid`);
    return (
      await this.db.execute<Volume>(sql`
        SELECT * FROM (SELECT ${volumeView} FROM ${fromVolumes} WHERE ${inScope(scope)}) AS view
        WHERE ${allOf(conditions)} ORDER BY id LIMIT ${limit}`)
    ).rows;
  }

  private async resolve(scope: ResourceScope, ids: readonly string[]): Promise<void> {
    const found = new Set(
      (
        await this.db.execute<{ volume_id: string }>(
          sql`SELECT volume_id FROM lifecycle.volumes v WHERE ${inScope(scope)} AND volume_id = ANY(${sql.param(ids)}::text[])`,
        )
      ).rows.map((r) => r.volume_id),
    );
    const missing = [...new Set(ids)].filter((id) => !found.has(id));
    if (missing.length > 0) throw volumesNotFound(missing);
  }

  private async one(db: Db, id: string): Promise<Volume> {
    const [volume] = (
      await db.execute<Volume>(sql`SELECT ${volumeView} FROM ${fromVolumes} WHERE v.id = ${id}`)
    ).rows;
    if (!volume) throw new Error(`volume ${id} vanished`);
    return volume;
  }

  private async lockVolume(tx: Db, scope: ResourceScope, volumeId: string): Promise<LockedVolume> {
    const [row] = (
      await tx.execute<LockedVolume>(sql`
        SELECT v.*, s.instance_id FROM ${fromVolumes}
        WHERE ${inScope(scope)} AND v.volume_id = ${volumeId} FOR UPDATE OF v`)
    ).rows;
    if (!row) throw volumesNotFound([volumeId]);
    return row;
  }

  /** Attaches the volume at `device` of the instance, which starts attaching (VOLUME_ATTACH_DELAY). */
  async attach(
    scope: ResourceScope,
    { volumeId, instanceId, device }: { volumeId: string; instanceId: string; device: string },
    requestId: string,
  ): Promise<VolumeAttachment> {
    return this.db.transaction(async (tx) => {
      const [server] = (
        await tx.execute<{ id: string; state: ServerState; availability_zone: string }>(sql`
          SELECT id, state, availability_zone FROM lifecycle.servers s
          WHERE ${serverInScope(scope)} AND instance_id = ${instanceId} FOR UPDATE`)
      ).rows;
      if (!server) throw instancesNotFound([instanceId]);
      const volume = await this.lockVolume(tx, scope, volumeId);
      const devices = (
        await tx.execute<{ device: string }>(
          sql`SELECT device FROM lifecycle.volumes WHERE server_id = ${server.id}`,
        )
      ).rows.map((r) => r.device);
      const refused = attachRefusal(
        factsOf(volume),
        { instanceId, state: server.state, zone: server.availability_zone, devices },
        device,
      );
      if (refused) throw refused;
      const at = clockDate(this.clock);
      const due = new Date(at.getTime() + this.delays.VOLUME_ATTACH_DELAY);
      await tx.execute(sql`
        UPDATE lifecycle.volumes SET state = 'in-use', server_id = ${server.id}, device = ${device},
          attachment_state = 'attaching', attach_time = ${at}::timestamptz, delete_on_termination = false,
          updated_at = ${at}::timestamptz, due_at = ${due}::timestamptz, pending_request_id = ${requestId}
        WHERE id = ${volume.id}`);
      await tx.execute(
        insertOutbox([volumeStateChanged(volume, { from: volume.state, to: "in-use", at, requestId })]),
      );
      return this.attachmentOf(tx, volume.id);
    });
  }

  /** Starts detaching the volume (VOLUME_DETACH_DELAY); it is available once detached. */
  async detach(
    scope: ResourceScope,
    {
      volumeId,
      instanceId,
      device,
    }: { volumeId: string; instanceId?: string | undefined; device?: string | undefined },
    requestId: string,
  ): Promise<VolumeAttachment> {
    return this.db.transaction(async (tx) => {
      const [attached] = (
        await tx.execute<{ server_id: string | null }>(sql`
          SELECT server_id FROM lifecycle.volumes v WHERE ${inScope(scope)} AND volume_id = ${volumeId}`)
      ).rows;
      if (!attached) throw volumesNotFound([volumeId]);
      const [server] = attached.server_id
        ? (
            await tx.execute<{ state: ServerState }>(
              sql`SELECT state FROM lifecycle.servers WHERE id = ${attached.server_id} FOR SHARE`,
            )
          ).rows
        : [];
      const volume = await this.lockVolume(tx, scope, volumeId);
      const refused = detachRefusal(factsOf(volume), { instanceId, device }, server?.state);
      if (refused) throw refused;
      const at = clockDate(this.clock);
      const due = new Date(at.getTime() + this.delays.VOLUME_DETACH_DELAY);
      await tx.execute(sql`
        UPDATE lifecycle.volumes SET attachment_state = 'detaching', updated_at = ${at}::timestamptz,
          due_at = ${due}::timestamptz, pending_request_id = ${requestId}
        WHERE id = ${volume.id}`);
      return this.attachmentOf(tx, volume.id);
    });
  }

  private async attachmentOf(tx: Db, id: string): Promise<VolumeAttachment> {
    const volume = await this.one(tx, id);
    if (!volume.attachment) throw new Error(`volume ${id} is not attached`);
    return volume.attachment;
  }

  /** Starts deleting an available volume (VOLUME_DELETE_DELAY); one already deleting is left as it is. */
  async delete(scope: ResourceScope, volumeId: string, requestId: string): Promise<string> {
    return this.db.transaction(async (tx) => {
      const volume = await this.lockVolume(tx, scope, volumeId);
      const refused = deleteRefusal(factsOf(volume));
      if (refused) throw refused;
      if (volume.state === "deleting") return volume.volume_id;
      const at = clockDate(this.clock);
      const due = new Date(at.getTime() + this.delays.VOLUME_DELETE_DELAY);
      await tx.execute(sql`
        UPDATE lifecycle.volumes SET state = 'deleting', updated_at = ${at}::timestamptz,
          due_at = ${due}::timestamptz, pending_request_id = ${requestId}
        WHERE id = ${volume.id}`);
      await tx.execute(
        insertOutbox([volumeStateChanged(volume, { from: volume.state, to: "deleting", at, requestId })]),
      );
      return volume.volume_id;
    });
  }

  /**
   * Sets DeleteOnTermination of the volumes at these devices of the instance; NOT_FOUND
   * (InvalidInstanceID) for an instance the scope does not hold, VALIDATION naming a device that
   * holds no volume.
   */
  async setDeleteOnTermination(
    scope: ResourceScope,
    instanceId: string,
    devices: readonly { device: string; delete_on_termination: boolean }[],
  ): Promise<number> {
    return this.db.transaction(async (tx) => {
      const [server] = (
        await tx.execute<{ id: string }>(sql`
          SELECT id FROM lifecycle.servers s WHERE ${serverInScope(scope)} AND instance_id = ${instanceId}`)
      ).rows;
      if (!server) throw instancesNotFound([instanceId]);
      const changed = (
        await tx.execute<{ device: string }>(sql`
          UPDATE lifecycle.volumes v SET delete_on_termination = d.delete_on_termination
          FROM jsonb_to_recordset(${JSON.stringify(devices)}::jsonb) AS d(device text, delete_on_termination boolean)
          WHERE v.server_id = ${server.id} AND v.device = d.device
          RETURNING v.device`)
      ).rows.map((r) => r.device);
      const missing = devices.find((d) => !changed.includes(d.device));
      if (missing)
        throw new AppError(
          "VALIDATION",
          `The device '${missing.device}' has no volume attached to instance '${instanceId}'.`,
          { reason: "no_such_device", device: missing.device },
        );
      return changed.length;
    });
  }
}
