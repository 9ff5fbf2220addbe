import { ALL_TENANTS, type Bus, DEFAULT_TENANT, type Region } from "@cloudsim/shared";
import type { FastifyRequest } from "fastify";
import type { Caller } from "../../auth.ts";
import { osRequestId, publicBase } from "../context.ts";
import { notFound } from "../errors.ts";
import type { ComputeUrls, ServerView } from "../render.ts";

export interface ComputeConfig {
  PUBLIC_URL: string;
  OPENSTACK_MAX_PAGE: number;
}

/** One compute endpoint: a region's servers, answered under `prefix` (/compute/<region> or /compute). */
export interface ComputeEndpoint {
  bus: Bus;
  config: ComputeConfig;
  region: Region;
  prefix: string;
}

/** What the onRequest hook learnt of an authenticated request: who, at which microversion. */
interface ComputeRequestState {
  caller: Caller;
  minor: number;
}

const states = new WeakMap<FastifyRequest, ComputeRequestState>();

export const rememberRequest = (request: FastifyRequest, state: ComputeRequestState) =>
  states.set(request, state);

/** The request's caller and microversion; a route reached without them (a version document) is 404. */
export function stateOf(request: FastifyRequest): ComputeRequestState {
  const state = states.get(request);
  if (!state) throw notFound();
  return state;
}

export const minorOf = (request: FastifyRequest) => stateOf(request).minor;

/** The tenant whose servers the request sees (the admin key: every tenant's). */
export const scopeOf = (request: FastifyRequest) => stateOf(request).caller.tenantId ?? ALL_TENANTS;

/** The tenant that owns what the request makes, and that server bodies name. */
export const ownerOf = (request: FastifyRequest) => stateOf(request).caller.tenantId ?? DEFAULT_TENANT;

/** The context the request's NATS commands carry, so a server's log names the request. */
export const busContext = (request: FastifyRequest) => ({ requestId: osRequestId(request) });

export function urlsOf(endpoint: ComputeEndpoint, request: FastifyRequest): ComputeUrls {
  const root = `${publicBase(request, endpoint.config.PUBLIC_URL)}${endpoint.prefix}`;
  return { root, versioned: `${root}/v2.1` };
}

export const viewOf = (endpoint: ComputeEndpoint, request: FastifyRequest): ServerView => ({
  urls: urlsOf(endpoint, request),
  minor: minorOf(request),
  tenantId: ownerOf(request),
});

/** Nova's `<collection>_links`: a next link when the page is full. */
export function nextLinks(
  endpoint: ComputeEndpoint,
  request: FastifyRequest,
  path: string,
  ids: string[],
  size: number,
) {
  const last = ids[ids.length - 1];
  if (last === undefined || ids.length < size) return undefined;
  const query = new URLSearchParams(request.query as Record<string, string>);
  query.set("limit", String(size));
  query.set("marker", last);
  return [{ rel: "next", href: `${urlsOf(endpoint, request).versioned}/${path}?${query}` }];
}
