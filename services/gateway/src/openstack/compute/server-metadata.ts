import { AppError, instances, MAX_SERVER_TAGS, type Server } from "@cloudsim/shared";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { z } from "zod";
import { hiddenRoute } from "../context.ts";
import { badRequest, forbidden, OsError } from "../errors.ts";
import { zodField } from "./bodies.ts";
import { busContext, type ComputeEndpoint, scopeOf } from "./context.ts";
import { serverOf } from "./server-commands.ts";

/** Nova's metadata: keys of 1-255 characters, values of at most 255 (the server's tags). */
const Metadata = z.record(z.string().min(1).max(255), z.string().max(255));
const MetadataBody = z.object({ metadata: Metadata }).strict();
const MetaBody = z.object({ meta: Metadata }).strict();

const itemNotFound = () => new OsError(404, "Metadata item was not found");

function parsed<T>(schema: z.ZodType<T>, body: unknown): T {
  const result = schema.safeParse(body);
  if (!result.success) throw zodField(result.error, "");
  return result.data;
}

const tooMany = () => forbidden(`Maximum number of metadata items exceeds ${MAX_SERVER_TAGS}`);

/** Sets and removes the server's tags; past the tag limit, Nova's 403. */
async function retag(
  endpoint: ComputeEndpoint,
  request: FastifyRequest,
  server: Server,
  change: { set: Record<string, string>; remove: { key: string }[] | null },
) {
  if (Object.keys(change.set).length > MAX_SERVER_TAGS) throw tooMany();
  await endpoint.bus
    .request(
      instances.tag,
      {
        tenant_id: scopeOf(request),
        region: endpoint.region,
        // Terminated instances stay visible to EC2 for a while; this one was found live just now.
        visible_after: server.created_at,
        ids: [server.instance_id],
        ...change,
      },
      busContext(request),
    )
    .catch((err: unknown) => {
      if (err instanceof AppError && err.details.reason === "tag_limit") throw tooMany();
      if (err instanceof AppError && err.code === "VALIDATION") throw badRequest(err.message);
      throw err;
    });
}

/** /servers/{id}/metadata and /metadata/{key}: the server's tags as Nova's metadata. */
export function serverMetadataRoutes(app: FastifyInstance, endpoint: ComputeEndpoint) {
  type Params = { Params: { id: string } };
  type KeyParams = { Params: { id: string; key: string } };
  const path = "/v2.1/servers/:id/metadata";
  const current = async (request: FastifyRequest<Params>) => serverOf(endpoint, request, request.params.id);

  app.get<Params>(path, hiddenRoute, async (request) => ({ metadata: (await current(request)).tags }));

  // POST merges into what is there; PUT replaces all of it.
  app.post<Params>(path, hiddenRoute, async (request) => {
    const { metadata } = parsed(MetadataBody, request.body);
    const server = await current(request);
    await retag(endpoint, request, server, { set: metadata, remove: [] });
    return { metadata: { ...server.tags, ...metadata } };
  });
  app.put<Params>(path, hiddenRoute, async (request) => {
    const { metadata } = parsed(MetadataBody, request.body);
    await retag(endpoint, request, await current(request), { set: metadata, remove: null });
    return { metadata };
  });

  app.get<KeyParams>(`${path}/:key`, hiddenRoute, async (request) => {
    const { tags } = await current(request);
    const { key } = request.params;
    if (!Object.hasOwn(tags, key)) throw itemNotFound();
    return { meta: { [key]: tags[key] } };
  });
  app.put<KeyParams>(`${path}/:key`, hiddenRoute, async (request) => {
    const { meta } = parsed(MetaBody, request.body);
    const keys = Object.keys(meta);
    if (keys.length !== 1) throw badRequest("Request body contains too many items");
    if (keys[0] !== request.params.key) throw badRequest("Request body and URI mismatch");
    await retag(endpoint, request, await current(request), { set: meta, remove: [] });
    return { meta };
  });
  app.delete<KeyParams>(`${path}/:key`, hiddenRoute, async (request, reply) => {
    const server = await current(request);
    const { key } = request.params;
    if (!Object.hasOwn(server.tags, key)) throw itemNotFound();
    await retag(endpoint, request, server, { set: {}, remove: [{ key }] });
    return reply.code(204).send();
  });
}
