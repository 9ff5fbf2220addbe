import { type Bus, type Clock, type Db, type HandlerMetrics, KeyName, keyPairs } from "@cloudsim/shared";
import { listResourceTags, type ResourceScope, retagResources } from "../db/resource-tags.ts";
import { decodeCursor, encodeCursor } from "../domain/cursor.ts";
import { tagPage, tagsAfter } from "../domain/tag-cursor.ts";
import { KeyPairRepository, taggedKeyPairs } from "./db.ts";

/** The most tags a key pair holds, as EC2 allows on any resource. */
const MAX_TAGS = 50;

const scopeOf = (r: { tenant_id: string | null; region: string }): ResourceScope => ({
  tenantId: r.tenant_id,
  region: r.region,
});

/** EC2's key pairs: kept, listed, deleted and tagged per tenant and region. */
export function serveKeyPairs(bus: Bus, db: Db, clock: Clock, metrics: HandlerMetrics) {
  const repo = new KeyPairRepository(db, clock);

  bus.serve(
    keyPairs.create,
    async ({ tenant_id, region, key_name, key_type, fingerprint, public_key, tags }, ctx) => {
      const key = await repo.create({
        tenantId: tenant_id,
        region,
        name: key_name,
        type: key_type,
        fingerprint,
        publicKey: public_key,
        tags,
      });
      ctx.log.info({ tenant_id, region, key_pair_id: key.key_pair_id }, "key pair kept");
      return key;
    },
    metrics,
  );

  bus.serve(
    keyPairs.describe,
    async ({ names, ids, filters, limit, cursor, ...scope }) => {
      const after =
        cursor === undefined ? undefined : decodeCursor(cursor, (name) => KeyName.safeParse(name).success);
      const rows = await repo.page(scopeOf(scope), { names, ids, filters }, after, limit + 1);
      const items = rows.slice(0, limit);
      const last = items[items.length - 1];
      return { items, next_cursor: rows.length > limit && last ? encodeCursor(last.key_name) : null };
    },
    metrics,
  );

  bus.serve(
    keyPairs.delete,
    async ({ key_name, key_pair_id, ...scope }) => ({
      key_pair_id: await repo.delete(scopeOf(scope), { name: key_name, id: key_pair_id }),
    }),
    metrics,
  );

  bus.serve(
    keyPairs.tag,
    async ({ ids, set, remove, ...scope }) => ({
      count: await retagResources(db, taggedKeyPairs, scopeOf(scope), ids, { set, remove }, MAX_TAGS),
    }),
    metrics,
  );

  bus.serve(
    keyPairs.tags,
    async ({ filters, limit, cursor, ...scope }) =>
      tagPage(
        await listResourceTags(db, taggedKeyPairs, scopeOf(scope), filters, tagsAfter(cursor), limit + 1),
        limit,
      ),
    metrics,
  );
}
