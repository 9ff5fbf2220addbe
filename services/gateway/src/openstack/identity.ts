import { randomBytes } from "node:crypto";
import { regions } from "@cloudsim/shared";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { z } from "zod";
import type { Identity, OpenStackAuthenticator } from "./caller.ts";
import { hiddenRoute, osRequestId, publicBase } from "./context.ts";
import { badRequest, keystoneError, OsError, unauthorized } from "./errors.ts";
import { installOsReplies } from "./replies.ts";
import type { TokenClaims } from "./tokens.ts";

const IDENTITY_VERSION = "v3.14";
const DOMAIN = { id: "default", name: "Default" };

/** The compute endpoint of a region, as the catalog lists it. */
export const computeUrl = (base: string, region: string) => `${base}/compute/${region}/v2.1`;

export function identityVersion(base: string) {
  return {
    id: IDENTITY_VERSION,
    status: "stable",
    updated: "2020-04-07T00:00:00Z",
    links: [{ rel: "self", href: `${base}/identity/v3/` }],
    "media-types": [{ base: "application/json", type: "application/vnd.openstack.identity-v3+json" }],
  };
}

/** The service catalog: identity, compute and network (one endpoint per region each) and image. */
export function catalog(base: string) {
  const endpoints = (service: string, url: (region: string) => string) =>
    regions.map((region) => ({
      id: `${service}-${region}`,
      interface: "public",
      region_id: region,
      region,
      url: url(region),
    }));
  return [
    {
      type: "identity",
      name: "keystone",
      id: "identity",
      endpoints: endpoints("identity", () => `${base}/identity/v3`),
    },
    {
      type: "compute",
      name: "nova",
      id: "compute",
      endpoints: endpoints("compute", (r) => computeUrl(base, r)),
    },
    { type: "image", name: "glance", id: "image", endpoints: endpoints("image", () => `${base}/image`) },
    {
      type: "network",
      name: "neutron",
      id: "network",
      endpoints: endpoints("network", (r) => `${base}/network/${r}`),
    },
  ];
}

/** Keystone's times: microseconds and a Z. */
const keystoneTime = (ms: number) => new Date(ms).toISOString().replace(/Z$/, "000Z");

const Named = z.object({ id: z.string().max(512).optional(), name: z.string().max(512).optional() }).loose();

const AuthBody = z.object({
  auth: z
    .object({
      identity: z
        .object({
          methods: z.array(z.string().max(64)).min(1).max(5),
          password: z
            .object({ user: Named.extend({ password: z.string().max(512) }) })
            .loose()
            .optional(),
          token: z
            .object({ id: z.string().max(4096) })
            .loose()
            .optional(),
          application_credential: Named.extend({ secret: z.string().max(512) }).optional(),
        })
        .loose(),
      scope: z.union([z.literal("unscoped"), z.object({ project: Named.optional() }).loose()]).optional(),
    })
    .loose(),
});

/** Whether `given` (a user's or project's id or name) names the tenant; absent names it. */
const names = (given: { id?: string; name?: string } | undefined, id: string, name: string) =>
  !given ||
  ((given.id === undefined || given.id === id) &&
    (given.name === undefined || given.name === name || given.name === id));

/** Identity v3: version documents and tokens (NOVA.md §1). */
export function identityRoutes(auth: OpenStackAuthenticator, publicUrl: string) {
  return async (app: FastifyInstance) => {
    installOsReplies(app, {
      service: "identity",
      errorBody: keystoneError,
      errorHeaders: (error): Record<string, string> =>
        error.status === 401 ? { "www-authenticate": 'Keystone uri="/identity"' } : {},
      requestIdHeaders: ["x-openstack-request-id"],
    });

    const versions = (request: FastifyRequest, reply: FastifyReply) =>
      reply.code(300).send({ versions: { values: [identityVersion(publicBase(request, publicUrl))] } });
    const version = (request: FastifyRequest) => ({
      version: identityVersion(publicBase(request, publicUrl)),
    });
    app.get("/", hiddenRoute, versions);
    app.get("/v3", hiddenRoute, version);
    app.get("/v3/", hiddenRoute, version);

    /** The token body Keystone answers with. */
    const tokenBody = async (request: FastifyRequest, identity: Identity, claims: TokenClaims) => {
      const { caller } = identity;
      const tenantId = caller.tenantId ?? "default";
      const tenantName = caller.tenantId
        ? await auth.tenantName(caller.tenantId, osRequestId(request))
        : "default";
      const roles = [
        { id: "member", name: "member" },
        { id: "reader", name: "reader" },
        ...(caller.admin ? [{ id: "admin", name: "admin" }] : []),
      ];
      return {
        token: {
          methods: claims.methods,
          user: {
            id: caller.admin ? "admin" : tenantId,
            name: caller.admin ? "admin" : tenantName,
            domain: DOMAIN,
            password_expires_at: null,
          },
          project: { id: tenantId, name: tenantName, domain: DOMAIN },
          roles,
          audit_ids: [randomBytes(16).toString("base64url").slice(0, 22)],
          is_domain: false,
          issued_at: keystoneTime(claims.issuedAt),
          expires_at: keystoneTime(claims.expiresAt),
          catalog: catalog(publicBase(request, publicUrl)),
        },
      };
    };

    app.post("/v3/auth/tokens", hiddenRoute, async (request, reply) => {
      const parsed = AuthBody.safeParse(request.body);
      if (!parsed.success)
        throw badRequest(
          `Invalid input for field '${parsed.error.issues[0]?.path.join(".") || "auth"}': ${parsed.error.issues[0]?.message ?? "invalid"}`,
        );
      const { identity: given, scope } = parsed.data.auth;
      const method = given.methods[0] ?? "";
      let identity: Identity | null;
      let user: { id?: string; name?: string } | undefined;
      if (method === "password") {
        if (!given.password) throw badRequest("Invalid input for field 'identity.password': required");
        identity = await auth.byKey(given.password.user.password, request);
        user = given.password.user;
      } else if (method === "token") {
        const header = request.headers["x-auth-token"];
        const text = given.token?.id ?? (typeof header === "string" ? header : undefined);
        if (!text) throw badRequest("Invalid input for field 'identity.token': required");
        identity = await auth.byTokenOrKey(text, request);
      } else if (method === "application_credential") {
        const credential = given.application_credential;
        if (!credential)
          throw badRequest("Invalid input for field 'identity.application_credential': required");
        identity = await auth.byKey(credential.secret, request);
        // The credential's id, when given, is the key's id (or the tenant's id or name).
        if (identity && credential.id !== undefined && credential.id !== identity.caller.keyId)
          user = { id: credential.id };
      } else {
        throw new OsError(
          401,
          `Attempted to authenticate with an unsupported method: ${method.slice(0, 64)}.`,
        );
      }
      if (!identity) throw unauthorized();
      const { caller } = identity;
      if (identity.key !== "") {
        const tenantId = caller.tenantId ?? "default";
        const tenantName = caller.tenantId
          ? await auth.tenantName(tenantId, osRequestId(request))
          : "default";
        const userOk = caller.admin
          ? !user || user.name === undefined || user.name === "admin"
          : names(user, tenantId, tenantName) || (user?.id !== undefined && user.id === tenantName);
        const project = typeof scope === "object" ? scope.project : undefined;
        if (!userOk || (!caller.admin && !names(project, tenantId, tenantName))) throw unauthorized();
      }
      const { token, claims } = auth.issue(identity, [method]);
      reply.header("x-subject-token", token);
      return reply.code(201).send(await tokenBody(request, identity, claims));
    });

    // Validation: X-Auth-Token says who asks, X-Subject-Token the token to show.
    app.get("/v3/auth/tokens", hiddenRoute, async (request) => {
      await auth.authenticate(request);
      const subject = request.headers["x-subject-token"];
      const text = typeof subject === "string" ? subject : "";
      const claims = auth.claimsOf(text);
      const identity = claims ? await auth.byTokenOrKey(text, request) : null;
      if (!claims || !identity) throw new OsError(404, "Could not find token.");
      return tokenBody(request, identity, claims);
    });
  };
}
