export { matchesFilters } from "@cloudsim/shared";

import { Ec2Error, invalidParameterValue } from "./errors.ts";
import type { Filter } from "./query.ts";

/** An unknown filter is refused by name, never ignored (EC2.md §7: ignoring filters is a top complaint). */
export const invalidFilter = (name: string) =>
  new Ec2Error("InvalidParameterValue", `The filter '${name}' is invalid`);

/** Refuses any filter whose name is not in `known` (and not `tag:<key>` when tags are). */
export function checkFilterNames(filters: readonly Filter[], known: readonly string[], tags = false): void {
  for (const { name } of filters) {
    if (!known.includes(name) && !(tags && /^tag:.+/s.test(name))) throw invalidFilter(name);
  }
}

/** A list in pages of MaxResults (within `range`) after NextToken, an offset here. */
export function pageOf<T>(
  items: readonly T[],
  maxResults: number | undefined,
  nextToken: string | undefined,
): { page: T[]; nextToken: string | undefined } {
  const start = nextToken === undefined ? 0 : Number.parseInt(nextToken, 10);
  if (nextToken !== undefined && !(/^\d{1,9}$/.test(nextToken) && start <= items.length)) {
    throw invalidParameterValue("NextToken", nextToken, "The token is invalid.");
  }
  const end = maxResults === undefined ? items.length : start + maxResults;
  return { page: items.slice(start, end), nextToken: end < items.length ? String(end) : undefined };
}
