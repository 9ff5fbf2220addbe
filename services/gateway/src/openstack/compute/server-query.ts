import { InstanceType, type InstanceTypeName, type Server } from "@cloudsim/shared";
import type { FastifyRequest } from "fastify";
import { osRequestId, queryParam } from "../context.ts";
import { badRequest } from "../errors.ts";
import { catalogueImage } from "../images.ts";
import { statesOfStatus } from "../states.ts";
import { type ComputeEndpoint, minorOf } from "./context.ts";

/** What GET /servers asks for: what lifecycle.list filters itself, and the filters applied here. */
export interface ServerQuery {
  state?: Server["state"];
  type?: InstanceTypeName;
  filters: ((server: Server) => boolean)[];
}

/** Nova's name filter, without running a client's regex: a substring, optionally anchored by ^ and $. */
export function nameMatcher(pattern: string): (name: string) => boolean {
  const start = pattern.startsWith("^");
  const end = pattern.endsWith("$") && pattern.length > (start ? 1 : 0);
  const core = pattern.slice(start ? 1 : 0, end ? -1 : undefined).toLowerCase();
  return (name) => {
    const n = name.toLowerCase();
    if (start && end) return n === core;
    if (start) return n.startsWith(core);
    if (end) return n.endsWith(core);
    return n.includes(core);
  };
}

/** `status`: one state lifecycle filters, or several filtered here; false when none can match. */
function addStatus(request: FastifyRequest, query: ServerQuery): boolean {
  const status = queryParam(request, "status");
  if (status === undefined) return true;
  const wanted = statesOfStatus(status);
  if (!wanted || wanted.length === 0) {
    // Before 2.38 Nova answered an unknown status with an empty list.
    if (minorOf(request) >= 38) throw badRequest("Invalid status value");
    return false;
  }
  if (wanted.length === 1) query.state = wanted[0];
  else query.filters.push((s) => wanted.includes(s.state));
  return true;
}

/** `flavor`: an instance type; false when it names none. */
function addFlavor(request: FastifyRequest, query: ServerQuery): boolean {
  const flavor = queryParam(request, "flavor");
  if (flavor === undefined) return true;
  const type = InstanceType.safeParse(flavor);
  query.type = type.data;
  return type.success;
}

/** `image`: either of an image's ids; false when it names none. */
async function addImage(endpoint: ComputeEndpoint, request: FastifyRequest, query: ServerQuery) {
  const ref = queryParam(request, "image");
  if (ref === undefined) return true;
  const image = await catalogueImage(endpoint.bus, osRequestId(request), ref);
  if (image) query.filters.push((s) => s.image === image.id);
  return image !== undefined;
}

function addChangesSince(request: FastifyRequest, query: ServerQuery) {
  const since = queryParam(request, "changes-since");
  if (since === undefined) return;
  const at = Date.parse(since);
  if (Number.isNaN(at))
    throw badRequest(`Invalid input for query parameters changes-since. Value: ${since}.`);
  query.filters.push((s) => Date.parse(s.updated_at) >= at);
}

/**
 * The request's server filters (name, status, flavor, image, changes-since, ip), read in Nova's
 * order; undefined when no server can pass them, so the answer is an empty list.
 */
export async function serverQueryOf(
  endpoint: ComputeEndpoint,
  request: FastifyRequest,
): Promise<ServerQuery | undefined> {
  const query: ServerQuery = { filters: [] };
  const name = queryParam(request, "name");
  if (name !== undefined) {
    const matches = nameMatcher(name.slice(0, 255));
    query.filters.push((s) => matches(s.name));
  }
  if (!addStatus(request, query) || !addFlavor(request, query)) return undefined;
  if (!(await addImage(endpoint, request, query))) return undefined;
  addChangesSince(request, query);
  const ip = queryParam(request, "ip");
  if (ip !== undefined) query.filters.push((s) => (s.ip_address ?? "").includes(ip));
  return query;
}
