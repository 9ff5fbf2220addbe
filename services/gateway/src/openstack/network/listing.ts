import { type Command, MAX_NETWORK_PAGE, type NetworkFilter, type Region } from "@cloudsim/shared";
import type { FastifyRequest } from "fastify";
import type { z } from "zod";
import { busContext, type ComputeEndpoint, ownerOf, scopeOf } from "../compute/context.ts";
import { publicBase } from "../context.ts";
import { type CursorPage, pageSizeOf } from "../paging.ts";
import { neutronBadRequest } from "./errors.ts";

/** What a request sees of ipam's: the caller's (the admin key: every tenant's) in the endpoint's region. */
export const networkScopeOf = (endpoint: ComputeEndpoint, request: FastifyRequest) => ({
  tenant_id: scopeOf(request),
  region: endpoint.region,
});

/** An ipam describe command: the scope, ids and a page size in, a page of items out. */
type Describe<T> = Command<
  z.ZodType<unknown, { tenant_id: string; region: Region; ids?: string[]; limit: number }>,
  z.ZodType<{ items: T[] }>
>;

/**
 * The one resource `id` names, as the caller sees it through `describe`; ipam answers an id it
 * does not see with its NOT_FOUND, which each face names in its own words.
 */
export async function describeOne<T>(
  endpoint: ComputeEndpoint,
  request: FastifyRequest,
  describe: Describe<T>,
  id: string,
): Promise<T | undefined> {
  const page = await endpoint.bus.request(
    describe,
    { ...networkScopeOf(endpoint, request), ids: [id], limit: 1 },
    busContext(request),
  );
  return page.items[0];
}

/** The query parameters a list reads that are not filters; `fields` and sorting are ignored. */
const NOT_FILTERS = new Set(["limit", "marker", "page_reverse", "fields", "sort_key", "sort_dir"]);
/** Every list takes these: a project other than the caller's matches nothing. */
const PROJECT_FILTERS = ["tenant_id", "project_id"];

/** A query parameter's values (repeated: any of them). */
function valuesOf(query: Record<string, string | string[] | undefined>, name: string): string[] {
  const value = query[name];
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

/**
 * A list's filters as ipam's, by the names `supported` gives each Neutron field ("": the route
 * applies it itself, from `wanted`); a value's * and ? match as in EC2's filters. null: the query
 * asks for another project's, which the caller cannot see. Unknown fields are a 400 naming
 * them, as Neutron's filter validation answers.
 */
export function filtersOf(
  request: FastifyRequest,
  supported: Record<string, string | ((values: string[]) => NetworkFilter)>,
): { filters: NetworkFilter[]; wanted: Record<string, string[]> } | null {
  const query = request.query as Record<string, string | string[] | undefined>;
  const filters: NetworkFilter[] = [];
  const wanted: Record<string, string[]> = {};
  for (const name of Object.keys(query)) {
    if (NOT_FILTERS.has(name)) continue;
    const values = valuesOf(query, name);
    if (PROJECT_FILTERS.includes(name)) {
      if (!values.includes(ownerOf(request))) return null;
      continue;
    }
    const ipamName = supported[name];
    if (ipamName === undefined)
      throw neutronBadRequest(
        `[${name.slice(0, 100)}] is invalid attribute for filtering: cloudsim filters on ${[...Object.keys(supported), ...PROJECT_FILTERS].join(", ")}`,
      );
    if (values.length === 0 || values.length > 200 || values.some((v) => v.length > 256))
      throw neutronBadRequest(`Invalid filter ${name}: 1 to 200 values of at most 256 characters`);
    wanted[name] = values;
    if (typeof ipamName === "function") filters.push(ipamName(values));
    else if (ipamName !== "") filters.push({ name: ipamName, values });
  }
  return { filters, wanted };
}

/** The page the request asks for: `limit` (at most OPENSTACK_MAX_PAGE, and `most`) after `marker`. */
export function pageOf(endpoint: ComputeEndpoint, request: FastifyRequest, most = MAX_NETWORK_PAGE) {
  const marker = (request.query as Record<string, string | undefined>).marker;
  const limit = Math.min(pageSizeOf(request, endpoint.config.OPENSTACK_MAX_PAGE), most);
  return { limit, cursor: marker || undefined };
}

/** A list's answer: its items under `collection`, and a next link while there is more. */
export function listBody<T>(
  endpoint: ComputeEndpoint,
  request: FastifyRequest,
  collection: string,
  page: CursorPage<T>,
) {
  if (!page.next_cursor) return { [collection]: page.items };
  const query = new URLSearchParams(request.query as Record<string, string>);
  query.set("marker", page.next_cursor);
  const href = `${publicBase(request, endpoint.config.PUBLIC_URL)}${endpoint.prefix}/v2.0/${collection}?${query}`;
  return { [collection]: page.items, [`${collection}_links`]: [{ rel: "next", href }] };
}
