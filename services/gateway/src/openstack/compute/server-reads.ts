import { lifecycle, type Server } from "@cloudsim/shared";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { hiddenRoute, isUuid, queryParam } from "../context.ts";
import { badRequest, OsError } from "../errors.ts";
import { cursorPages, pageSizeOf } from "../paging.ts";
import { type ServerView, serverBody, serverSummary } from "../render.ts";
import { busContext, type ComputeEndpoint, nextLinks, scopeOf, viewOf } from "./context.ts";
import { serverOf } from "./server-commands.ts";
import { serverViewOf } from "./server-networks.ts";
import { type ServerQuery, serverQueryOf } from "./server-query.ts";

/** An address as os-server-ips lists it. */
interface Ip {
  addr: string;
  version: number;
}

const ipOf = ({ addr, version }: Ip): Ip => ({ addr, version });

/** lifecycle.list pages read for one answer at most (a filter the list cannot apply is applied here). */
const MAX_SCAN_PAGES = 50;
const SCAN_PAGE = 100;

/** Up to `size` of the region's servers that pass the query, newest first, after `marker`. */
async function scanServers(
  endpoint: ComputeEndpoint,
  request: FastifyRequest,
  query: ServerQuery,
  marker: string | undefined,
  size: number,
): Promise<Server[]> {
  const items: Server[] = [];
  if (size === 0) return items;
  const { state, type, filters } = query;
  const read = (cursor: string | undefined) =>
    endpoint.bus.request(
      lifecycle.list,
      { tenant_id: scopeOf(request), region: endpoint.region, type, state, limit: SCAN_PAGE, cursor },
      busContext(request),
    );
  // lifecycle's cursor is the base64url of the last id, so a Nova marker is one.
  const start = marker === undefined ? undefined : Buffer.from(marker.toLowerCase()).toString("base64url");
  for await (const page of cursorPages(read, MAX_SCAN_PAGES, start)) {
    for (const s of page) if (items.length < size && filters.every((f) => f(s))) items.push(s);
    if (items.length >= size) break;
  }
  return items;
}

/** A page of the region's servers that pass the request's filters, and the page size. */
async function listServers(endpoint: ComputeEndpoint, request: FastifyRequest) {
  const size = pageSizeOf(request, endpoint.config.OPENSTACK_MAX_PAGE);
  const marker = queryParam(request, "marker");
  if (marker !== undefined && !isUuid(marker)) throw badRequest(`marker [${marker}] not found`);
  const query = await serverQueryOf(endpoint, request);
  const items = query ? await scanServers(endpoint, request, query, marker, size) : [];
  return { items, size };
}

/** GET /servers (summaries), /servers/detail (full bodies) and /servers/{id}. */
export function serverReadRoutes(app: FastifyInstance, endpoint: ComputeEndpoint) {
  const list = (path: string, render: (server: Server, view: ServerView) => object, detailed: boolean) =>
    app.get(`/v2.1/${path}`, hiddenRoute, async (request) => {
      const { items, size } = await listServers(endpoint, request);
      const links = nextLinks(
        endpoint,
        request,
        path,
        items.map((s) => s.id),
        size,
      );
      const view = detailed ? await serverViewOf(endpoint, request, items) : viewOf(endpoint, request);
      return { servers: items.map((s) => render(s, view)), ...(links && { servers_links: links }) };
    });
  list("servers", serverSummary, false);
  list("servers/detail", serverBody, true);

  app.get<{ Params: { id: string } }>("/v2.1/servers/:id", hiddenRoute, async (request) => {
    const server = await serverOf(endpoint, request, request.params.id);
    return { server: serverBody(server, await serverViewOf(endpoint, request, [server])) };
  });

  /** The server's addresses as os-server-ips shows them: by network, each its addr and version only. */
  const ipsOf = async (request: FastifyRequest, id: string): Promise<Record<string, Ip[]>> => {
    const server = await serverOf(endpoint, request, id);
    const { addresses } = serverBody(server, await serverViewOf(endpoint, request, [server]));
    const byNetwork: Record<string, readonly Ip[]> = addresses;
    return Object.fromEntries(Object.entries(byNetwork).map(([network, ips]) => [network, ips.map(ipOf)]));
  };
  app.get<{ Params: { id: string } }>("/v2.1/servers/:id/ips", hiddenRoute, async (request) => ({
    addresses: await ipsOf(request, request.params.id),
  }));
  app.get<{ Params: { id: string; network: string } }>(
    "/v2.1/servers/:id/ips/:network",
    hiddenRoute,
    async (request) => {
      const { network } = request.params;
      const ips = (await ipsOf(request, request.params.id))[network];
      if (!ips) throw new OsError(404, "There is no such network.");
      return { [network]: ips };
    },
  );
}
