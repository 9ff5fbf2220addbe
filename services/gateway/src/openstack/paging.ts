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
