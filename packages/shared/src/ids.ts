import { randomFillSync } from "node:crypto";

/** Random bytes fetched a few kilobytes at a time: one system call per 256 ids, not one per id. */
const entropy = Buffer.alloc(16 * 256);
let used = entropy.length;

/**
 * A UUIDv7 (RFC 9562): 48 bits of Unix milliseconds first, so ids sort by creation time
 * and a keyset page over the primary key is newest-first without a second column.
 */
export function uuidv7(now = Date.now()): string {
  if (used === entropy.length) {
    randomFillSync(entropy);
    used = 0;
  }
  const bytes = Buffer.from(entropy.subarray(used, used + 16));
  used += 16;
  bytes.writeUIntBE(now, 0, 6);
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x70;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = bytes.toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
