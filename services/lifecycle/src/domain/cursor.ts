import { AppError } from "@cloudsim/shared";

/** Opaque page cursors: the last key of the previous page, base64url-encoded. */
export function encodeCursor(key: string): string {
  return Buffer.from(key).toString("base64url");
}

export function decodeCursor(cursor: string, isKey: (key: string) => boolean): string {
  const key = Buffer.from(cursor, "base64url").toString();
  if (!isKey(key)) {
    throw new AppError("VALIDATION", "cursor: not a cursor from a previous page", {
      fields: [{ field: "cursor", message: "not a cursor from a previous page" }],
    });
  }
  return key;
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (text: string) => uuidPattern.test(text);
export const isSequence = (text: string) => /^\d{1,18}$/.test(text);
/** A server's UUID or its EC2 instance id (i- and 17 hex digits). */
export const isServerKey = (text: string) => isUuid(text) || /^i-[0-9a-f]{17}$/.test(text);
