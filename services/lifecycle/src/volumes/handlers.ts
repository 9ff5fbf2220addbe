import {
  AppError,
  type Bus,
  type Clock,
  type Db,
  type HandlerMetrics,
  volumes,
  zonesOf,
} from "@cloudsim/shared";
import { listResourceTags, type ResourceScope, retagResources } from "../db/resource-tags.ts";
import { decodeCursor, encodeCursor, isUuid } from "../domain/cursor.ts";
import { tagPage, tagsAfter } from "../domain/tag-cursor.ts";
import type { VolumeDelays } from "../domain/volume-states.ts";
import { taggedVolumes, VolumeRepository } from "./db.ts";

/** The most tags a volume holds, as EC2 allows on any resource. */
const MAX_TAGS = 50;

const scopeOf = (r: { tenant_id: string | null; region: string }): ResourceScope => ({
  tenantId: r.tenant_id,
  region: r.region,
});

/** EBS volumes: made, listed, attached to instances, detached, deleted and tagged. */
export function serveVolumes(bus: Bus, db: Db, clock: Clock, delays: VolumeDelays, metrics: HandlerMetrics) {
  const repo = new VolumeRepository(db, clock, delays);

  bus.serve(
    volumes.create,
    async ({ tenant_id, region, availability_zone, tags, client_token, ...spec }, ctx) => {
      if (!zonesOf(region).includes(availability_zone))
        throw new AppError("VALIDATION", `Invalid availability zone: [${availability_zone}]`, {
          fields: [{ field: "availability_zone", message: `one of ${zonesOf(region).join(", ")}` }],
        });
      const volume = await repo.create({ tenantId: tenant_id, region, zone: availability_zone }, spec, tags, {
        requestId: ctx.requestId,
        clientToken: client_token,
      });
      ctx.log.info({ tenant_id, volume_id: volume.volume_id }, "volume creating");
      return volume;
    },
    metrics,
  );

  bus.serve(
    volumes.describe,
    async ({ ids, filters, limit, cursor, ...scope }) => {
      const after = cursor === undefined ? undefined : decodeCursor(cursor, isUuid);
      const rows = await repo.page(scopeOf(scope), { ids, filters }, after, limit + 1);
      const items = rows.slice(0, limit);
      const last = items[items.length - 1];
      return { items, next_cursor: rows.length > limit && last ? encodeCursor(last.id) : null };
    },
    metrics,
  );

  bus.serve(
    volumes.attach,
    ({ volume_id, instance_id, device, ...scope }, ctx) =>
      repo.attach(scopeOf(scope), { volumeId: volume_id, instanceId: instance_id, device }, ctx.requestId),
    metrics,
  );

  bus.serve(
    volumes.detach,
    ({ volume_id, instance_id, device, ...scope }, ctx) =>
      repo.detach(scopeOf(scope), { volumeId: volume_id, instanceId: instance_id, device }, ctx.requestId),
    metrics,
  );

  bus.serve(
    volumes.delete,
    async ({ volume_id, ...scope }, ctx) => ({
      volume_id: await repo.delete(scopeOf(scope), volume_id, ctx.requestId),
    }),
    metrics,
  );

  bus.serve(
    volumes.deleteOnTermination,
    async ({ instance_id, devices, ...scope }) => ({
      count: await repo.setDeleteOnTermination(scopeOf(scope), instance_id, devices),
    }),
    metrics,
  );

  bus.serve(
    volumes.tag,
    async ({ ids, set, remove, ...scope }) => ({
      count: await retagResources(db, taggedVolumes, scopeOf(scope), ids, { set, remove }, MAX_TAGS),
    }),
    metrics,
  );

  bus.serve(
    volumes.tags,
    async ({ filters, limit, cursor, ...scope }) =>
      tagPage(
        await listResourceTags(db, taggedVolumes, scopeOf(scope), filters, tagsAfter(cursor), limit + 1),
        limit,
      ),
    metrics,
  );
}
