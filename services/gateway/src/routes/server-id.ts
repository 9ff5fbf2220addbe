import { z } from "zod";

/** `:id` of a server's routes: any text up to 100 characters (an id nobody has is a 404, not a 400). */
export const IdParams = z.object({ id: z.string().max(100).describe("Server id") });

/** Built once, not per request: it is on every server route's path. */
const ServerId = z.uuid();

/** Whether `id` can name a server at all: the other services take only UUIDs. */
export const isServerId = (id: string) => ServerId.safeParse(id).success;
