import { z } from "zod";

/** A point in time on the wire, as every contract writes one. */
export const Timestamp = z.string().describe("RFC 3339 time");
