import { randomUUID } from "node:crypto";
import type { FastifyRequest } from "fastify";

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (text: string) => uuidPattern.test(text);

const requestIds = new WeakMap<FastifyRequest, string>();

/**
 * The request's OpenStack request id, `req-<uuid>` (the gateway's own id when it is a UUID): the
 * x-openstack-request-id and x-compute-request-id headers, and the id its commands carry on NATS,
 * so a server's log (and so os-instance-actions) names it.
 */
export function osRequestId(request: FastifyRequest): string {
  let id = requestIds.get(request);
  if (!id) {
    id = `req-${isUuid(String(request.id)) ? String(request.id) : randomUUID()}`;
    requestIds.set(request, id);
  }
  return id;
}

/** The base of the URLs the face answers with: PUBLIC_URL, or the scheme and Host the client used. */
export function publicBase(request: FastifyRequest, publicUrl: string): string {
  if (publicUrl) return publicUrl.replace(/\/+$/, "");
  const host =
    request.headers.host && /^[A-Za-z0-9.:[\]_-]{1,255}$/.test(request.headers.host)
      ? request.headers.host
      : "localhost";
  return `${request.protocol}://${host}`;
}

/** A query parameter as one string (the last when repeated); undefined when absent. */
export function queryParam(request: FastifyRequest, name: string): string | undefined {
  const value = (request.query as Record<string, string | string[] | undefined>)[name];
  return Array.isArray(value) ? value[value.length - 1] : value;
}

/** The face's routes stay out of the REST API's OpenAPI document. */
export const hiddenRoute = { schema: { hide: true } };
