import { AppError, lifecycle, MAX_SERVER_LABELS, ServerLabel } from "@cloudsim/shared";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { z } from "zod";
import { hiddenRoute } from "../context.ts";
import { badRequest, notFound, OsError } from "../errors.ts";
import { zodField } from "./bodies.ts";
import { busContext, type ComputeEndpoint, minorOf, scopeOf, urlsOf } from "./context.ts";
import { serverOf } from "./server-commands.ts";

/** Nova's server tags arrived at 2.26: before that the routes are not there. */
const TAGS_MINOR = 26;

const TagsBody = z.object({ tags: z.array(ServerLabel).max(MAX_SERVER_LABELS) }).strict();

const tagNotFound = (tag: string, id: string) =>
  new OsError(404, `Tag ${tag.slice(0, 60)} could not be found for instance ${id}.`);

type Change = { replace?: string[]; add?: string[]; remove?: string[] | null };

/** The server (404 below 2.26, and for one the caller does not have), and a way to change its tags. */
async function taggedServer(endpoint: ComputeEndpoint, request: FastifyRequest, id: string) {
  if (minorOf(request) < TAGS_MINOR) throw notFound();
  const server = await serverOf(endpoint, request, id);
  const change = async (wanted: Change) =>
    (
      await endpoint.bus
        .request(
          lifecycle.label,
          { id: server.id, tenant_id: scopeOf(request), ...wanted },
          busContext(request),
        )
        .catch((err: unknown) => {
          if (err instanceof AppError && err.details.reason === "label_limit")
            throw badRequest(`The number of tags exceeded the per-server limit ${MAX_SERVER_LABELS}`);
          throw err;
        })
    ).labels;
  return { server, change };
}

function tagOf(raw: string): string {
  const parsed = ServerLabel.safeParse(raw);
  if (!parsed.success)
    throw badRequest(`Tag '${raw.slice(0, 60)}' is invalid: ${parsed.error.issues[0]?.message}`);
  return parsed.data;
}

/** /servers/{id}/tags and /tags/{tag} (2.26): the server's labels, a set of up to 50 strings. */
export function serverTagRoutes(app: FastifyInstance, endpoint: ComputeEndpoint) {
  type Params = { id: string };
  type TagParams = { id: string; tag: string };
  const path = "/v2.1/servers/:id/tags";

  app.get<{ Params: Params }>(path, hiddenRoute, async (request) => {
    const { server } = await taggedServer(endpoint, request, request.params.id);
    return { tags: server.labels };
  });

  app.put<{ Params: Params }>(path, hiddenRoute, async (request) => {
    const { change } = await taggedServer(endpoint, request, request.params.id);
    const parsed = TagsBody.safeParse(request.body);
    if (!parsed.success) throw zodField(parsed.error, "");
    return { tags: await change({ replace: parsed.data.tags }) };
  });

  app.delete<{ Params: Params }>(path, hiddenRoute, async (request, reply) => {
    const { change } = await taggedServer(endpoint, request, request.params.id);
    await change({ remove: null });
    return reply.code(204).send();
  });

  app.get<{ Params: TagParams }>(`${path}/:tag`, hiddenRoute, async (request, reply) => {
    const { server } = await taggedServer(endpoint, request, request.params.id);
    if (!server.labels.includes(request.params.tag)) throw tagNotFound(request.params.tag, server.id);
    return reply.code(204).send();
  });

  app.put<{ Params: TagParams }>(`${path}/:tag`, hiddenRoute, async (request, reply) => {
    const { server, change } = await taggedServer(endpoint, request, request.params.id);
    const tag = tagOf(request.params.tag);
    if (server.labels.includes(tag)) return reply.code(204).send();
    await change({ add: [tag] });
    const location = `${urlsOf(endpoint, request).versioned}/servers/${server.id}/tags/${encodeURIComponent(tag)}`;
    return reply.code(201).header("location", location).send();
  });

  app.delete<{ Params: TagParams }>(`${path}/:tag`, hiddenRoute, async (request, reply) => {
    const { server, change } = await taggedServer(endpoint, request, request.params.id);
    if (!server.labels.includes(request.params.tag)) throw tagNotFound(request.params.tag, server.id);
    await change({ remove: [request.params.tag] });
    return reply.code(204).send();
  });
}
