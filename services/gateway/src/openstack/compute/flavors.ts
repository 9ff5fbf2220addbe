import { InstanceType, type InstanceTypeName, instanceTypeNames, instanceTypes } from "@cloudsim/shared";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { hiddenRoute, queryParam } from "../context.ts";
import { badRequest, flavorNotFound, OsError } from "../errors.ts";
import { pageSizeOf } from "../paging.ts";
import { flavorBody } from "../render.ts";
import { type ComputeEndpoint, minorOf, nextLinks, urlsOf } from "./context.ts";

/** A numeric flavor filter (minRam, minDisk); 0 when absent. */
function minimumOf(request: FastifyRequest, name: "minRam" | "minDisk"): number {
  const value = Number(queryParam(request, name) ?? 0);
  if (Number.isNaN(value)) throw badRequest(`Invalid ${name} filter [${queryParam(request, name)}]`);
  return value;
}

/** The flavors (instance types) after the marker, up to the limit, with minRam/minDisk (no type has disk). */
function flavorPage(endpoint: ComputeEndpoint, request: FastifyRequest) {
  const size = pageSizeOf(request, endpoint.config.OPENSTACK_MAX_PAGE);
  const minRam = minimumOf(request, "minRam");
  const minDisk = minimumOf(request, "minDisk");
  let names = instanceTypeNames.filter((n) => instanceTypes[n].memory_mib >= minRam && minDisk <= 0);
  const marker = queryParam(request, "marker");
  if (marker !== undefined) {
    const at = names.indexOf(marker as InstanceTypeName);
    if (at < 0) throw badRequest(`marker [${marker}] not found`);
    names = names.slice(at + 1);
  }
  return { names: names.slice(0, size), size };
}

const flavorOf = (id: string): InstanceTypeName => {
  const type = InstanceType.safeParse(id);
  if (!type.success) throw flavorNotFound(id);
  return type.data;
};

/** GET /flavors (id, name, links), /flavors/detail, /flavors/{id} and its (empty) extra specs. */
export function flavorRoutes(app: FastifyInstance, endpoint: ComputeEndpoint) {
  const bodyOf = (request: FastifyRequest) => (name: InstanceTypeName) =>
    flavorBody(name, urlsOf(endpoint, request), minorOf(request));
  const list = (path: string, render: (body: ReturnType<typeof flavorBody>) => object) =>
    app.get(`/v2.1/${path}`, hiddenRoute, async (request) => {
      const { names, size } = flavorPage(endpoint, request);
      const links = nextLinks(endpoint, request, path, names, size);
      const flavors = names.map(bodyOf(request)).map(render);
      return { flavors, ...(links && { flavors_links: links }) };
    });
  list("flavors", ({ id, name, links }) => ({ id, name, links }));
  list("flavors/detail", (body) => body);

  app.get<{ Params: { id: string } }>("/v2.1/flavors/:id", hiddenRoute, async (request) => ({
    flavor: bodyOf(request)(flavorOf(request.params.id)),
  }));

  app.get<{ Params: { id: string } }>("/v2.1/flavors/:id/os-extra_specs", hiddenRoute, async (request) => {
    flavorOf(request.params.id);
    return { extra_specs: {} };
  });

  app.get<{ Params: { id: string; key: string } }>(
    "/v2.1/flavors/:id/os-extra_specs/:key",
    hiddenRoute,
    async (request) => {
      const id = flavorOf(request.params.id);
      throw new OsError(404, `Flavor ${id} has no extra specs with key ${request.params.key.slice(0, 255)}.`);
    },
  );
}
