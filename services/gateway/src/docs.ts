import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import type { FastifyInstance } from "fastify";
import { jsonSchemaTransform, jsonSchemaTransformObject } from "fastify-type-provider-zod";

/** Where the original service served its docs: its users' links still work (a redirect to /docs). */
const LEGACY_DOCS_PATHS = ["/swagger", "/swagger/index.html"];

/** The docs' own paths, open to every caller (Swagger UI's assets are under /docs/). */
export const isDocsPath = (path: string) =>
  path === "/docs" ||
  path.startsWith("/docs/") ||
  path === "/openapi.json" ||
  LEGACY_DOCS_PATHS.includes(path);

/** The OpenAPI document, generated from the routes' zod schemas, and Swagger UI over it. */
export async function installDocs(app: FastifyInstance, publicUrl: string | undefined) {
  await app.register(swagger, {
    openapi: {
      info: {
        title: "cloudsim",
        description: "A simulated cloud compute control plane",
        version: "0.1.0",
      },
      servers: publicUrl ? [{ url: publicUrl }] : [],
      components: { securitySchemes: { apiKey: { type: "http", scheme: "bearer" } } },
      security: [{ apiKey: [] }],
    },
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject,
  });
  await app.register(swaggerUi, {
    routePrefix: "/docs",
    // Swagger UI's own CSP (hashes of its inline parts), framed by no one; plain HTTP stays usable.
    staticCSP: true,
    transformStaticCSP: (header) =>
      header
        .replace("frame-ancestors 'self'", "frame-ancestors 'none'")
        .replace(" upgrade-insecure-requests;", ""),
  });
  app.get("/openapi.json", { schema: { hide: true } }, async () => app.swagger());
  for (const url of LEGACY_DOCS_PATHS)
    app.get(url, { schema: { hide: true } }, (_, reply) => reply.redirect("/docs", 301));
}
