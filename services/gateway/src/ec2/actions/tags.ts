import { instances, MAX_INSTANCE_IDS } from "@cloudsim/shared";
import { type Ec2Action, type Ec2Request, requestContext, unlessDryRun, visibility } from "../context.ts";
import { Ec2Error, invalidParameterValue, missingParameter } from "../errors.ts";
import { checkFilterNames } from "../filters.ts";
import { type Ec2Params, filters, int, list, str, type Tag, tags } from "../query.ts";
import { xmlList } from "../xml.ts";

/** ResourceId.N: instance ids only, the one resource cloudsim tags. */
function resourceIds(params: Ec2Params): string[] {
  const ids = list(params, "ResourceId", { max: MAX_INSTANCE_IDS });
  if (ids.length === 0) throw missingParameter("ResourceId.1");
  for (const id of ids) {
    if (!/^i-([0-9a-f]{8}|[0-9a-f]{17})$/.test(id))
      throw new Ec2Error(
        "InvalidParameterValue",
        `Invalid id: "${id.slice(0, 100)}" (only instances can be tagged)`,
      );
  }
  return ids;
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

const retag = (request: Ec2Request, ids: string[], set: Record<string, string>, remove: Tag[] | null) =>
  request.bus.request(instances.tag, { ...visibility(request), ids, set, remove }, requestContext(request));

const createTags: Ec2Action = async (request) => {
  const ids = resourceIds(request.params);
  const given = tags(request.params, "Tag");
  if (given.length === 0) throw missingParameter("Tag.1.Key");
  checkKeys(given);
  unlessDryRun(request);
  await retag(request, ids, Object.fromEntries(given.map((t) => [t.key, t.value ?? ""])), []);
  return { return: true };
};

/** A key alone removes the tag; a key with a value (even empty) only while it has that value; none: all. */
const deleteTags: Ec2Action = async (request) => {
  const ids = resourceIds(request.params);
  const given = tags(request.params, "Tag");
  unlessDryRun(request);
  await retag(request, ids, {}, given.length ? given : null);
  return { return: true };
};

const describeTags: Ec2Action = async (request) => {
  const { params } = request;
  const given = filters(params);
  checkFilterNames(given, ["key", "value", "resource-id", "resource-type"], true);
  const max = int(params, "MaxResults", { min: 5, max: 1000 });
  const cursor = str(params, "NextToken", { max: 400 });
  unlessDryRun(request);
  const page = await request.bus.request(
    instances.tags,
    { ...visibility(request), filters: given as never, limit: max ?? 1000, cursor },
    requestContext(request),
  );
  return {
    tagSet: xmlList(
      page.items.map((t) => ({
        resourceId: t.instance_id,
        resourceType: "instance",
        key: t.key,
        value: t.value,
      })),
    ),
    nextToken: page.next_cursor,
  };
};

export const tagActions: Record<string, Ec2Action> = {
  CreateTags: createTags,
  DeleteTags: deleteTags,
  DescribeTags: describeTags,
};
