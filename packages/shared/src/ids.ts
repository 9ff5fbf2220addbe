import { v7 } from "uuid";

/**
 * A UUIDv7 (RFC 9562): 48 bits of Unix milliseconds first, so ids sort by creation time
 * and a keyset page over the primary key is newest-first without a second column. Ids made
 * in one millisecond still sort in the order they were made (the uuid package keeps a counter).
 */
export function uuidv7(): string {
  return v7();
}
