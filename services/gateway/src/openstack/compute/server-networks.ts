import { AppError, elasticIps, type Server, vpcs } from "@cloudsim/shared";
import type { FastifyRequest } from "fastify";
import { NETWORK_NAME, type ServerView } from "../render.ts";
import { busContext, type ComputeEndpoint, scopeOf, viewOf } from "./context.ts";

/** A network's name as Nova keys a server's addresses by it: the Name tag, else its id. */
async function networkNames(endpoint: ComputeEndpoint, request: FastifyRequest, servers: readonly Server[]) {
  const ids = [...new Set(servers.map((s) => s.vpc_id))];
  const page = await endpoint.bus
    .request(
      vpcs.describe,
      { tenant_id: scopeOf(request), region: endpoint.region, ids, limit: 1000 },
      busContext(request),
    )
    // A network deleted since (its servers terminated) keeps its id as its name.
    .catch((err: unknown) => {
      if (err instanceof AppError && err.code === "NOT_FOUND") return { items: [] };
      throw err;
    });
  return new Map(page.items.map((v) => [v.vpc_id, v.tags.Name ?? (v.is_default ? NETWORK_NAME : v.vpc_id)]));
}

/** The floating IP (Elastic IP) of each of these servers that has one. */
async function floatingIps(endpoint: ComputeEndpoint, request: FastifyRequest, servers: readonly Server[]) {
  const reply = await endpoint.bus.request(
    elasticIps.ofServers,
    { tenant_id: scopeOf(request), region: endpoint.region, server_ids: servers.map((s) => s.id) },
    busContext(request),
  );
  return new Map(reply.items.map((a) => [a.server_id, a.public_ip]));
}

/** The view of full server bodies: with their networks' names and floating IPs (two reads for a page). */
export async function serverViewOf(
  endpoint: ComputeEndpoint,
  request: FastifyRequest,
  servers: readonly Server[],
): Promise<ServerView> {
  const view = viewOf(endpoint, request);
  const addressed = servers.filter((s) => s.ip_address !== null);
  if (addressed.length === 0) return view;
  const [names, floating] = await Promise.all([
    networkNames(endpoint, request, addressed),
    floatingIps(endpoint, request, addressed),
  ]);
  return { ...view, networks: { names, floating } };
}
