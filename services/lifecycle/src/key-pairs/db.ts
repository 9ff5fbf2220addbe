import {
  AppError,
  type Clock,
  clockDate,
  type Db,
  isUniqueViolation,
  type KeyPair,
  type KeyPairFilter,
  type KeyType,
  MAX_KEY_PAIRS,
  uuidv7,
} from "@cloudsim/shared";
import { sql } from "drizzle-orm";
import { allOf, filterCondition } from "../db/resource-filters.ts";
import type { ResourceScope, TaggedResources } from "../db/resource-tags.ts";
import { isoMs } from "../db/server-rows.ts";

/** NOT_FOUND for a key pair, by the name (or id) it was asked by. */
export const keyPairNotFound = (name: string) =>
  new AppError("NOT_FOUND", `The key pair '${name}' does not exist`, { key_name: name });

/** The key pairs as CreateTags, DeleteTags and DescribeTags reach them. */
export const taggedKeyPairs: TaggedResources = {
  table: "lifecycle.key_pairs",
  idColumn: "key_pair_id",
  visible: "true",
  notFound: (ids) => keyPairNotFound(ids[0] ?? ""),
};

const selectKeyPair = sql.raw(
  `key_pair_id, name AS key_name, type AS key_type, fingerprint, public_key, tags, ${isoMs("created_at")} AS created_at`,
);

/** What each DescribeKeyPairs filter compares. */
const filterColumns = {
  "key-name": "name",
  "key-pair-id": "key_pair_id",
  fingerprint: "fingerprint",
  "key-type": "type",
};

const inScope = ({ tenantId, region }: ResourceScope) =>
  sql`(${tenantId}::text IS NULL OR tenant_id = ${tenantId}) AND region = ${region}`;

export interface NewKeyPair {
  tenantId: string;
  region: string;
  name: string;
  type: KeyType;
  fingerprint: string;
  publicKey: string;
  tags: Record<string, string>;
}

/** lifecycle's key pairs: the public halves, per tenant and region, stamped with `clock`'s time. */
export class KeyPairRepository {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
  ) {}

  /**
   * Keeps a new key pair; CONFLICT (key_pair_duplicate) when the tenant has one of that name in
   * the region, EXHAUSTED (key_pair_limit) when it holds MAX_KEY_PAIRS there. The count is taken
   * under a lock of the tenant's key pairs in the region, so concurrent creates never pass it.
   */
  async create(key: NewKeyPair): Promise<KeyPair> {
    try {
      return await this.db.transaction(async (tx) => {
        await tx.execute(
          sql`SELECT pg_advisory_xact_lock(hashtextextended(${`key_pairs:${key.tenantId}:${key.region}`}, 0))`,
        );
        const [count] = (
          await tx.execute<{ n: number }>(
            sql`SELECT count(*)::int AS n FROM lifecycle.key_pairs WHERE tenant_id = ${key.tenantId} AND region = ${key.region}`,
          )
        ).rows;
        if ((count?.n ?? 0) >= MAX_KEY_PAIRS)
          throw new AppError(
            "EXHAUSTED",
            `You have reached the limit of ${MAX_KEY_PAIRS} key pairs in ${key.region}.`,
            {
              reason: "key_pair_limit",
              limit: MAX_KEY_PAIRS,
            },
          );
        const [row] = (
          await tx.execute<KeyPair>(sql`
            INSERT INTO lifecycle.key_pairs (id, tenant_id, region, name, type, fingerprint, public_key, tags, created_at)
            VALUES (${uuidv7()}, ${key.tenantId}, ${key.region}, ${key.name}, ${key.type}, ${key.fingerprint},
                    ${key.publicKey}, ${JSON.stringify(key.tags)}::jsonb, ${clockDate(this.clock)}::timestamptz)
            RETURNING ${selectKeyPair}`)
        ).rows;
        if (!row) throw new Error("insert returned no row");
        return row;
      });
    } catch (err) {
      if (isUniqueViolation(err, "key_pairs_name_key"))
        throw new AppError("CONFLICT", `The keypair '${key.name}' already exists.`, {
          reason: "key_pair_duplicate",
          key_name: key.name,
        });
      throw err;
    }
  }

  /**
   * Key pairs by name, `limit` after the name `after`; NOT_FOUND naming the first of `names` or
   * `ids` the scope does not hold (checked before any page, as EC2 fails the whole call).
   */
  async page(
    scope: ResourceScope,
    where: {
      names?: readonly string[] | undefined;
      ids?: readonly string[] | undefined;
      filters: readonly KeyPairFilter[];
    },
    after: string | undefined,
    limit: number,
  ): Promise<KeyPair[]> {
    const conditions = where.filters.map((f) => filterCondition(f, filterColumns));
    if (where.names) conditions.push(sql`name = ANY(${sql.param(where.names)}::text[])`);
    if (where.ids) conditions.push(sql`key_pair_id = ANY(${sql.param(where.ids)}::text[])`);
    if (after === undefined && (where.names || where.ids)) await this.assertAllExist(scope, where);
    if (after !== undefined) conditions.push(sql`name > ${after}`);
    return (
      await this.db.execute<KeyPair>(sql`
        SELECT ${selectKeyPair} FROM lifecycle.key_pairs
        WHERE ${inScope(scope)} AND ${allOf(conditions)} ORDER BY name LIMIT ${limit}`)
    ).rows;
  }

  private async assertAllExist(
    scope: ResourceScope,
    { names = [], ids = [] }: { names?: readonly string[] | undefined; ids?: readonly string[] | undefined },
  ): Promise<void> {
    const found = (
      await this.db.execute<{ name: string; key_pair_id: string }>(sql`
        SELECT name, key_pair_id FROM lifecycle.key_pairs WHERE ${inScope(scope)}
          AND (name = ANY(${sql.param(names)}::text[]) OR key_pair_id = ANY(${sql.param(ids)}::text[]))`)
    ).rows;
    const missing =
      names.find((n) => !found.some((f) => f.name === n)) ??
      ids.find((i) => !found.some((f) => f.key_pair_id === i));
    if (missing !== undefined) throw keyPairNotFound(missing);
  }

  /** Deletes the key pair of that name or id, if the scope holds one; its id, or null. */
  async delete(
    scope: ResourceScope,
    by: { name?: string | undefined; id?: string | undefined },
  ): Promise<string | null> {
    const match = by.name === undefined ? sql`key_pair_id = ${by.id ?? ""}` : sql`name = ${by.name}`;
    const [row] = (
      await this.db.execute<{ key_pair_id: string }>(
        sql`DELETE FROM lifecycle.key_pairs WHERE ${inScope(scope)} AND ${match} RETURNING key_pair_id`,
      )
    ).rows;
    return row?.key_pair_id ?? null;
  }
}

/** Whether the tenant holds a key pair of that name in the region (RunInstances' KeyName). */
export async function hasKeyPair(db: Db, tenantId: string, region: string, name: string): Promise<boolean> {
  const [row] = (
    await db.execute<{ found: boolean }>(sql`
      SELECT EXISTS (SELECT 1 FROM lifecycle.key_pairs
        WHERE tenant_id = ${tenantId} AND region = ${region} AND name = ${name}) AS found`)
  ).rows;
  return row?.found ?? false;
}
