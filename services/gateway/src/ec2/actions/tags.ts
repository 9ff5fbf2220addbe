import { instances, keyPairs, MAX_INSTANCE_IDS, networkTags, volumes } from "@cloudsim/shared";
import { type Ec2Action, type Ec2Request, requestContext, unlessDryRun, visibility } from "../context.ts";
import { Ec2Error, invalidParameterValue, missingParameter } from "../errors.ts";
import { checkFilterNames, matchesFilters } from "../filters.ts";
import { type Ec2Params, type Filter, filters, int, list, str, type Tag, tags } from "../query.ts";
import { xmlList } from "../xml.ts";

type Remove = Tag[] | null;
interface TagPage {
  items: { resource_id: string; key: string; value: string }[];
  next_cursor: string | null;
}

/**
 * Where each resource's tags are kept: the service that owns its kind, told apart by the id's
 * prefix (each with the resource type DescribeTags shows), and how to change and list them.
 */
interface TagOwner {
  types: Record<string, string>;
  retag(request: Ec2Request, ids: string[], set: Record<string, string>, remove: Remove): Promise<unknown>;
  list(request: Ec2Request, filters: Filter[], limit: number, cursor: string | undefined): Promise<TagPage>;
}

const tagOwners: readonly TagOwner[] = [
  {
    types: { "i-": "instance" },
    retag: (request, ids, set, remove) =>
      request.bus.request(
        instances.tag,
        { ...visibility(request), ids, set, remove },
        requestContext(request),
      ),
    list: async (request, given, limit, cursor) => {
      const page = await request.bus.request(
        instances.tags,
        { ...visibility(request), filters: given as never, limit, cursor },
        requestContext(request),
      );
      return {
        items: page.items.map(({ instance_id, ...tag }) => ({ resource_id: instance_id, ...tag })),
        next_cursor: page.next_cursor,
      };
    },
  },
  {
    types: { "vol-": "volume" },
    retag: (request, ids, set, remove) =>
      request.bus.request(
        volumes.tag,
        { tenant_id: request.scope, region: request.region, ids, set, remove },
        requestContext(request),
      ),
    list: (request, given, limit, cursor) =>
      request.bus.request(
        volumes.tags,
        { tenant_id: request.scope, region: request.region, filters: given as never, limit, cursor },
        requestContext(request),
      ),
  },
  {
    types: { "key-": "key-pair" },
    retag: (request, ids, set, remove) =>
      request.bus.request(
        keyPairs.tag,
        { tenant_id: request.scope, region: request.region, ids, set, remove },
        requestContext(request),
      ),
    list: (request, given, limit, cursor) =>
      request.bus.request(
        keyPairs.tags,
        { tenant_id: request.scope, region: request.region, filters: given as never, limit, cursor },
        requestContext(request),
      ),
  },
  {
    types: { "vpc-": "vpc", "subnet-": "subnet", "sg-": "security-group", "eipalloc-": "elastic-ip" },
    retag: (request, ids, set, remove) =>
      request.bus.request(
        networkTags.tag,
        { tenant_id: request.scope, region: request.region, ids, set, remove },
        requestContext(request),
      ),
    list: (request, given, limit, cursor) =>
      request.bus.request(
        networkTags.describe,
        { tenant_id: request.scope, region: request.region, filters: given as never, limit, cursor },
        requestContext(request),
      ),
  },
];

const prefixOf = (owner: TagOwner, id: string) =>
  Object.keys(owner.types).find((prefix) => id.startsWith(prefix));
const typeOf = (id: string) =>
  tagOwners.flatMap((owner) => {
    const prefix = prefixOf(owner, id);
    return prefix ? [owner.types[prefix] as string] : [];
  })[0] ?? "";

/** ResourceId.N, each a well-formed id of a kind some service tags, grouped by that service. */
function resourceIds(params: Ec2Params): Map<TagOwner, string[]> {
  const ids = list(params, "ResourceId", { max: MAX_INSTANCE_IDS });
  if (ids.length === 0) throw missingParameter("ResourceId.1");
  const byOwner = new Map<TagOwner, string[]>();
  for (const id of ids) {
    const owner = tagOwners.find((o) => {
      const prefix = prefixOf(o, id);
      return prefix !== undefined && /^([0-9a-f]{8}|[0-9a-f]{17})$/.test(id.slice(prefix.length));
    });
    if (!owner)
      throw new Ec2Error(
        "InvalidParameterValue",
        `Invalid id: "${id.slice(0, 100)}" (not a resource cloudsim tags)`,
      );
    byOwner.set(owner, [...(byOwner.get(owner) ?? []), id]);
  }
  return byOwner;
}

function checkKeys(given: readonly Tag[]): void {
  for (const { key } of given) {
    if (key.startsWith("aws:"))
      throw invalidParameterValue(
        "Tag.Key",
        key,
        "Tag keys starting with 'aws:' are reserved for internal use.",
      );
  }
}

async function retagAll(request: Ec2Request, set: Record<string, string>, remove: Remove) {
  for (const [owner, ids] of resourceIds(request.params)) await owner.retag(request, ids, set, remove);
}

const createTags: Ec2Action = async (request) => {
  const given = tags(request.params, "Tag");
  if (given.length === 0) throw missingParameter("Tag.1.Key");
  checkKeys(given);
  resourceIds(request.params);
  unlessDryRun(request);
  await retagAll(request, Object.fromEntries(given.map((t) => [t.key, t.value ?? ""])), []);
  return { return: true };
};

/** A key alone removes the tag; a key with a value (even empty) only while it has that value; none: all. */
const deleteTags: Ec2Action = async (request) => {
  const given = tags(request.params, "Tag");
  resourceIds(request.params);
  unlessDryRun(request);
  await retagAll(request, {}, given.length ? given : null);
  return { return: true };
};

/** NextToken: the owner a page stopped in (its index) and that owner's cursor. */
function tokenOf(nextToken: string | undefined): { owner: number; cursor: string | undefined } {
  if (nextToken === undefined) return { owner: 0, cursor: undefined };
  const at = nextToken.indexOf(":");
  const owner = Number(nextToken.slice(0, at));
  if (at < 1 || !Number.isInteger(owner) || owner < 0 || owner >= tagOwners.length)
    throw invalidParameterValue("NextToken", nextToken, "The token is invalid.");
  return { owner, cursor: nextToken.slice(at + 1) || undefined };
}

/** Each owner's tags in turn, filling a page; resource-type picks the types, the other filters go to the owners. */
const describeTags: Ec2Action = async (request) => {
  const { params } = request;
  const given = filters(params);
  checkFilterNames(given, ["key", "value", "resource-id", "resource-type"], true);
  const limit = int(params, "MaxResults", { min: 5, max: 1000 }) ?? 1000;
  let { owner, cursor } = tokenOf(str(params, "NextToken", { max: 400 }));
  unlessDryRun(request);
  const byType = given.filter((f) => f.name === "resource-type");
  const passed = given.filter((f) => f.name !== "resource-type");
  const wanted = (types: Record<string, string>) =>
    Object.values(types).some((type) => matchesFilters(byType, { "resource-type": type }));
  const items: TagPage["items"] = [];
  while (owner < tagOwners.length && items.length < limit) {
    const current = tagOwners[owner] as TagOwner;
    if (wanted(current.types)) {
      const page = await current.list(request, passed, limit - items.length, cursor);
      items.push(
        ...page.items.filter((t) => matchesFilters(byType, { "resource-type": typeOf(t.resource_id) })),
      );
      if (page.next_cursor !== null) {
        cursor = page.next_cursor;
        break;
      }
    }
    owner++;
    cursor = undefined;
  }
  return {
    tagSet: xmlList(
      items.map((t) => ({
        resourceId: t.resource_id,
        resourceType: typeOf(t.resource_id),
        key: t.key,
        value: t.value,
      })),
    ),
    nextToken: owner < tagOwners.length ? `${owner}:${cursor ?? ""}` : undefined,
  };
};

export const tagActions: Record<string, Ec2Action> = {
  CreateTags: createTags,
  DeleteTags: deleteTags,
  DescribeTags: describeTags,
};
