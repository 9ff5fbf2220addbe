import { Ec2Error } from "./errors.ts";

type Page<T> = { items: T[]; next_cursor: string | null };

/**
 * A describe command's pages, one after another from `cursor`, until `wanted` items or the last
 * page; the cursor after the last page read is the answer's NextToken.
 */
export async function collectPages<T>(
  fetch: (limit: number, cursor: string | undefined) => Promise<Page<T>>,
  { pageSize, wanted, cursor: start }: { pageSize: number; wanted: number; cursor?: string | undefined },
): Promise<{ items: T[]; nextToken: string | undefined }> {
  const items: T[] = [];
  let cursor = start;
  do {
    const page = await fetch(Math.min(pageSize, wanted - items.length), cursor);
    items.push(...page.items);
    cursor = page.next_cursor ?? undefined;
  } while (cursor && items.length < wanted);
  return { items, nextToken: cursor };
}

/**
 * Every item, for an action EC2 does not page (DescribeKeyPairs, DescribeAddresses), at most
 * `most`: past it the answer would be unbounded (the admin key sees every tenant's), so it is
 * refused saying how to narrow it.
 */
export async function collectAll<T>(
  fetch: (limit: number, cursor: string | undefined) => Promise<Page<T>>,
  pageSize: number,
  most: number,
  what: string,
): Promise<T[]> {
  const { items, nextToken } = await collectPages(fetch, { pageSize, wanted: most });
  if (nextToken !== undefined)
    throw new Ec2Error(
      "InvalidParameterValue",
      `More than ${most} ${what} match: name them or add filters to see fewer.`,
    );
  return items;
}
