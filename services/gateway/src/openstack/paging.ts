import type { FastifyRequest } from "fastify";
import { queryParam } from "./context.ts";
import { badRequest } from "./errors.ts";

/**
 * A list's page size: `limit` when given (a whole number from 0; above `max` it is `max`, as Nova
 * clamps to its max_limit), else `max`. Anything else is the face's 400 naming the field.
 */
export function pageLimit(limit: string | undefined, max: number): number {
  if (limit === undefined) return max;
  if (!/^\d{1,9}$/.test(limit))
    throw badRequest(
      `Invalid input for query parameters limit. Value: ${limit}. '${limit}' is not a non-negative integer`,
    );
  return Math.min(Number(limit), max);
}

/** The page size the request's `limit` query parameter asks for (see pageLimit). */
export const pageSizeOf = (request: FastifyRequest, max: number) =>
  pageLimit(queryParam(request, "limit"), max);

/** One page of a cursor-paged NATS list. */
export interface CursorPage<T> {
  items: T[];
  next_cursor: string | null;
}

/**
 * The pages of a cursor-paged list, from `cursor`, up to `maxPages` of them: a caller that has
 * enough stops reading (breaking out of the loop asks for no further page).
 */
export async function* cursorPages<T>(
  read: (cursor: string | undefined) => Promise<CursorPage<T>>,
  maxPages: number,
  cursor?: string,
): AsyncGenerator<T[]> {
  let next = cursor;
  for (let page = 0; page < maxPages; page++) {
    const found = await read(next);
    yield found.items;
    if (!found.next_cursor) return;
    next = found.next_cursor;
  }
}
