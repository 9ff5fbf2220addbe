import type { FastifyInstance, FastifyRequest } from "fastify";
import { hiddenRoute } from "../context.ts";
import { computeVersion, computeVersions } from "../render.ts";
import { type ComputeEndpoint, urlsOf } from "./context.ts";

/** Where the version documents are, under the endpoint's prefix. */
const VERSION_PATHS = ["", "/", "/v2.1", "/v2.1/"];

/** Whether a route is a version document, which is read before a token exists (keystoneauth's discovery). */
export const isVersionRoute = (endpoint: ComputeEndpoint) => {
  const routes = new Set(VERSION_PATHS.map((path) => endpoint.prefix + path));
  return (url: string | undefined) => routes.has(url ?? "");
};

/** GET / (the versions) and GET /v2.1 (the one version). */
export function versionRoutes(app: FastifyInstance, endpoint: ComputeEndpoint) {
  app.get("/", hiddenRoute, async (request) => computeVersions(urlsOf(endpoint, request)));
  const version = async (request: FastifyRequest) => ({
    version: computeVersion(urlsOf(endpoint, request)),
  });
  app.get("/v2.1", hiddenRoute, version);
  app.get("/v2.1/", hiddenRoute, version);
}
