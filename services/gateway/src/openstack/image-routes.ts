import type { Bus } from "@cloudsim/shared";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Caller } from "../auth.ts";
import type { OpenStackAuthenticator } from "./caller.ts";
import { hiddenRoute, osRequestId, publicBase, queryParam } from "./context.ts";
import { badRequest, imageNotFound, keystoneError } from "./errors.ts";
import { catalogueImage, glanceImage, imageCatalogue } from "./images.ts";
import { pageSizeOf } from "./paging.ts";
import { installOsReplies, retryAfterHeader } from "./replies.ts";

const GLANCE_VERSION = "v2.16";

export function imageVersion(base: string) {
  return { id: GLANCE_VERSION, status: "CURRENT", links: [{ rel: "self", href: `${base}/image/v2/` }] };
}

/** Image v2 (Glance): version documents, the list (name filter, limit, marker, next) and one image (NOVA.md §3). */
export function imageRoutes(
  bus: Bus,
  auth: OpenStackAuthenticator,
  limit: (caller: Caller, reply: FastifyReply) => void,
  config: { PUBLIC_URL: string; OPENSTACK_MAX_PAGE: number },
) {
  return async (app: FastifyInstance) => {
    installOsReplies(app, {
      service: "image",
      errorBody: keystoneError,
      errorHeaders: retryAfterHeader,
      requestIdHeaders: ["x-openstack-request-id"],
    });

    const versions = (request: FastifyRequest, reply: FastifyReply) =>
      reply.code(300).send({ versions: [imageVersion(publicBase(request, config.PUBLIC_URL))] });
    for (const path of ["/", "/v2", "/v2/"]) app.get(path, hiddenRoute, versions);

    const authenticated = async (request: FastifyRequest, reply: FastifyReply) => {
      const { caller } = await auth.authenticate(request);
      limit(caller, reply);
    };

    app.get("/v2/images", hiddenRoute, async (request, reply) => {
      await authenticated(request, reply);
      const size = pageSizeOf(request, config.OPENSTACK_MAX_PAGE);
      const name = queryParam(request, "name");
      const marker = queryParam(request, "marker");
      const status = queryParam(request, "status");
      let images = (await imageCatalogue(bus, osRequestId(request))).map(glanceImage);
      if (name !== undefined) images = images.filter((i) => i.name === name);
      if (status !== undefined) images = images.filter((i) => i.status === status);
      if (marker !== undefined) {
        const at = images.findIndex((i) => i.id === marker);
        if (at < 0) throw badRequest(`marker ${marker} could not be found.`);
        images = images.slice(at + 1);
      }
      const page = images.slice(0, size);
      const last = page[page.length - 1];
      const query = new URLSearchParams();
      if (name !== undefined) query.set("name", name);
      query.set("limit", String(size));
      if (last) query.set("marker", last.id);
      return {
        images: page,
        first: "/v2/images",
        schema: "/v2/schemas/images",
        ...(images.length > size && last && { next: `/v2/images?${query}` }),
      };
    });

    app.get<{ Params: { id: string } }>("/v2/images/:id", hiddenRoute, async (request, reply) => {
      await authenticated(request, reply);
      const image = await catalogueImage(bus, osRequestId(request), request.params.id);
      if (!image) throw imageNotFound(request.params.id);
      return glanceImage(image);
    });
  };
}
