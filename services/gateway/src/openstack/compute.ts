import { randomBytes } from "node:crypto";
import {
  ALL_TENANTS,
  AppError,
  type Bus,
  DEFAULT_TENANT,
  InstanceType,
  type InstanceTypeName,
  instanceTypeNames,
  instanceTypes,
  type LogEntry,
  lifecycle,
  type Region,
  type Server,
  type ServerAction,
  zonesOf,
} from "@cloudsim/shared";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { z } from "zod";
import type { Caller } from "../auth.ts";
import type { OpenStackAuthenticator } from "./caller.ts";
import { isUuid, osRequestId, publicBase, queryParam } from "./context.ts";
import {
  actionNotFound,
  badRequest,
  flavorNotFound,
  invalidField,
  invalidState,
  notFound,
  novaFault,
  OsError,
  osErrorOf,
  serverNotFound,
} from "./errors.ts";
import { findImage, imageCatalogue } from "./images.ts";
import { microversionHeaders, microversionOf } from "./microversion.ts";
import { pageLimit } from "./paging.ts";
import {
  type ComputeUrls,
  computeVersion,
  computeVersions,
  flavorBody,
  novaTime,
  type ServerView,
  serverBody,
  serverSummary,
} from "./render.ts";
import { actionOfState, refusalOf, statesOfStatus } from "./states.ts";

export interface ComputeConfig {
  PUBLIC_URL: string;
  OPENSTACK_MAX_PAGE: number;
}

/** lifecycle.list pages read for one answer at most (a filter the list cannot apply is applied here). */
const MAX_SCAN_PAGES = 50;
const SCAN_PAGE = 100;
/** Log pages read for os-instance-actions at most. */
const MAX_LOG_PAGES = 10;
/** The most servers one create makes (min_count/max_count). */
const MAX_CREATE_COUNT = 100;
const SERVER_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

const Count = z.union([
  z.number().int(),
  z
    .string()
    .regex(/^\d{1,9}$/)
    .transform(Number),
]);
const CreateBody = z.object({
  server: z
    .object({
      name: z.string().max(255),
      imageRef: z.string().max(1024),
      flavorRef: z.union([z.string().max(1024), z.number().int()]).transform(String),
      min_count: Count.optional(),
      max_count: Count.optional(),
      metadata: z.record(z.string().max(255), z.string().max(255)).optional(),
      availability_zone: z.string().max(255).optional(),
      networks: z.union([z.enum(["auto", "none"]), z.array(z.object({}).loose()).max(50)]).optional(),
      key_name: z.string().max(255).nullable().optional(),
      adminPass: z.string().max(255).optional(),
      user_data: z.string().max(65_535).optional(),
      description: z.string().max(255).nullable().optional(),
    })
    .loose(),
});

const ActionBodies = {
  "os-stop": z.null().optional(),
  "os-start": z.null().optional(),
  reboot: z.object({
    type: z
      .string()
      .transform((t) => t.toUpperCase())
      .pipe(z.enum(["SOFT", "HARD"])),
  }),
};
const novaActionNames: Record<keyof typeof ActionBodies, { action: ServerAction; nova: string }> = {
  "os-stop": { action: "stop", nova: "stop" },
  "os-start": { action: "start", nova: "start" },
  reboot: { action: "reboot", nova: "reboot" },
};

/** The first zod issue, as Nova names a field that does not validate. */
function zodField(error: z.ZodError, root: string): OsError {
  const issue = error.issues[0];
  const field = [root, ...(issue?.path ?? [])].filter((p) => p !== "").join("/");
  return invalidField(field, issue?.message ?? "invalid");
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

const adminPass = () => randomBytes(9).toString("base64url").replace(/[-_]/g, "x");

interface OsRequestState {
  caller: Caller;
  minor: number;
}

/**
 * Compute v2.1 (Nova) for one region, under `prefix` (/compute/<region>, and /compute for the
 * default region): the servers of that region, on the same lifecycle commands as the REST routes.
 */
export function computeRoutes(
  bus: Bus,
  auth: OpenStackAuthenticator,
  limit: (caller: Caller, reply: FastifyReply) => void,
  config: ComputeConfig,
  region: Region,
  prefix: string,
) {
  return async (app: FastifyInstance) => {
    const states = new WeakMap<FastifyRequest, OsRequestState>();
    const stateOf = (request: FastifyRequest): OsRequestState => {
      const state = states.get(request);
      if (!state) throw notFound();
      return state;
    };
    const urlsOf = (request: FastifyRequest): ComputeUrls => {
      const root = `${publicBase(request, config.PUBLIC_URL)}${prefix}`;
      return { root, versioned: `${root}/v2.1` };
    };

    app.setErrorHandler((err, request, reply) => {
      const error = osErrorOf(err);
      if (error.status >= 500) request.log.error({ err }, "compute request failed");
      if (error.retryAfter !== undefined) reply.header("retry-after", String(error.retryAfter));
      return reply.code(error.status).type("application/json").send(novaFault(error));
    });
    app.setNotFoundHandler((_request, reply) =>
      reply.code(404).type("application/json").send(novaFault(notFound())),
    );

    const versionPaths = new Set(["", "/", "/v2.1", "/v2.1/"].map((p) => prefix + p));
    app.addHook("onRequest", async (request, reply) => {
      const id = osRequestId(request);
      reply.header("x-openstack-request-id", id);
      reply.header("x-compute-request-id", id);
      // Version documents are read before a token exists (keystoneauth's discovery).
      if (versionPaths.has(request.routeOptions.url ?? "")) return;
      const minor = microversionOf(request.headers);
      reply.headers(microversionHeaders(minor));
      const { caller } = await auth.authenticate(request);
      request.caller = caller;
      limit(caller, reply);
      states.set(request, { caller, minor });
    });

    const hidden = { schema: { hide: true } };
    app.get("/", hidden, async (request) => computeVersions(urlsOf(request)));
    app.get("/v2.1", hidden, async (request) => ({ version: computeVersion(urlsOf(request)) }));
    app.get("/v2.1/", hidden, async (request) => ({ version: computeVersion(urlsOf(request)) }));

    const ctx = (request: FastifyRequest) => ({ requestId: osRequestId(request) });
    const scope = (request: FastifyRequest) => stateOf(request).caller.tenantId ?? ALL_TENANTS;
    const view = (request: FastifyRequest): ServerView => ({
      urls: urlsOf(request),
      minor: stateOf(request).minor,
      tenantId: stateOf(request).caller.tenantId ?? DEFAULT_TENANT,
    });

    /** The server `id` names in this region; 404 in Nova's words otherwise (terminated ones too, unless `terminated`). */
    const serverOf = async (request: FastifyRequest, id: string, terminated = false): Promise<Server> => {
      if (!isUuid(id)) throw serverNotFound(id);
      const server = await bus
        .request(lifecycle.get, { id, tenant_id: scope(request) }, ctx(request))
        .catch((err: unknown) => {
          if (err instanceof AppError && (err.code === "NOT_FOUND" || err.code === "VALIDATION"))
            throw serverNotFound(id);
          throw err;
        });
      if (server.region !== region || (server.state === "terminated" && !terminated))
        throw serverNotFound(id);
      return server;
    };

    /** A page of the region's servers that pass the filters, newest first, after `marker`. */
    const listServers = async (request: FastifyRequest) => {
      const size = pageLimit(queryParam(request, "limit"), config.OPENSTACK_MAX_PAGE);
      const marker = queryParam(request, "marker");
      if (marker !== undefined && !isUuid(marker)) throw badRequest(`marker [${marker}] not found`);
      const filters: ((s: Server) => boolean)[] = [];
      const name = queryParam(request, "name");
      if (name !== undefined) {
        const matches = nameMatcher(name.slice(0, 255));
        filters.push((s) => matches(s.name));
      }
      let state: Server["state"] | undefined;
      const status = queryParam(request, "status");
      if (status !== undefined) {
        const wanted = statesOfStatus(status);
        if (!wanted || wanted.length === 0) {
          if (stateOf(request).minor >= 38) throw badRequest("Invalid status value");
          return { items: [], size };
        }
        if (wanted.length === 1) state = wanted[0];
        else filters.push((s) => wanted.includes(s.state));
      }
      const flavor = queryParam(request, "flavor");
      const type = flavor === undefined ? undefined : InstanceType.safeParse(flavor);
      if (type && !type.success) return { items: [], size };
      const imageRef = queryParam(request, "image");
      if (imageRef !== undefined) {
        const image = findImage(await imageCatalogue(bus, osRequestId(request)), imageRef);
        if (!image) return { items: [], size };
        filters.push((s) => s.image === image.id);
      }
      const since = queryParam(request, "changes-since");
      if (since !== undefined) {
        const at = Date.parse(since);
        if (Number.isNaN(at))
          throw badRequest(`Invalid input for query parameters changes-since. Value: ${since}.`);
        filters.push((s) => Date.parse(s.updated_at) >= at);
      }
      const ip = queryParam(request, "ip");
      if (ip !== undefined) filters.push((s) => (s.ip_address ?? "").includes(ip));

      const items: Server[] = [];
      let cursor = marker === undefined ? undefined : Buffer.from(marker.toLowerCase()).toString("base64url");
      for (let page = 0; page < MAX_SCAN_PAGES && items.length < size; page++) {
        const found = await bus.request(
          lifecycle.list,
          {
            tenant_id: scope(request),
            region,
            type: type?.data,
            state,
            limit: SCAN_PAGE,
            cursor,
          },
          ctx(request),
        );
        for (const s of found.items) if (items.length < size && filters.every((f) => f(s))) items.push(s);
        if (!found.next_cursor) break;
        cursor = found.next_cursor;
      }
      return { items, size };
    };

    /** Nova's servers_links: a next link when the page is full. */
    const nextLinks = (request: FastifyRequest, path: string, items: { id: string }[], size: number) => {
      const last = items[items.length - 1];
      if (!last || items.length < size) return undefined;
      const query = new URLSearchParams(request.query as Record<string, string>);
      query.set("limit", String(size));
      query.set("marker", last.id);
      return [{ rel: "next", href: `${urlsOf(request).versioned}/${path}?${query}` }];
    };

    app.get("/v2.1/servers", hidden, async (request) => {
      const { items, size } = await listServers(request);
      const links = nextLinks(request, "servers", items, size);
      return {
        servers: items.map((s) => serverSummary(s, view(request))),
        ...(links && { servers_links: links }),
      };
    });

    app.get("/v2.1/servers/detail", hidden, async (request) => {
      const { items, size } = await listServers(request);
      const links = nextLinks(request, "servers/detail", items, size);
      return {
        servers: items.map((s) => serverBody(s, view(request))),
        ...(links && { servers_links: links }),
      };
    });

    app.get<{ Params: { id: string } }>("/v2.1/servers/:id", hidden, async (request) => ({
      server: serverBody(await serverOf(request, request.params.id), view(request)),
    }));

    app.post("/v2.1/servers", hidden, async (request, reply) => {
      const parsed = CreateBody.safeParse(request.body);
      if (!parsed.success) throw zodField(parsed.error, "");
      const body = parsed.data.server;
      if (!SERVER_NAME.test(body.name))
        throw invalidField(
          "server/name",
          "cloudsim names are 1-63 of A-Z a-z 0-9 _ . - starting with a letter or digit.",
        );
      const image = findImage(
        await imageCatalogue(bus, osRequestId(request)),
        body.imageRef.split("/").pop() ?? "",
      );
      if (!image) throw badRequest("Can not find requested image");
      const flavorId = body.flavorRef.split("/").pop() ?? "";
      const type = InstanceType.safeParse(flavorId);
      if (!type.success) throw badRequest("Invalid flavorRef provided.");
      const zone = body.availability_zone?.split(":")[0] || undefined;
      if (zone !== undefined && !zonesOf(region).includes(zone))
        throw badRequest(`The requested availability zone is not available`);
      const minCount = body.min_count ?? 1;
      const maxCount = body.max_count ?? minCount;
      if (minCount < 1) throw invalidField("server/min_count", "Value must be >= 1.");
      if (maxCount < 1 || maxCount > MAX_CREATE_COUNT)
        throw invalidField("server/max_count", `Value must be 1 to ${MAX_CREATE_COUNT}.`);
      if (minCount > maxCount) throw badRequest("min_count must be <= max_count");
      const failure = request.headers["x-simulate-failure"] === "provision" ? "provision" : undefined;
      const owner = stateOf(request).caller.tenantId ?? DEFAULT_TENANT;
      const made: Server[] = [];
      for (let i = 0; i < maxCount; i++) {
        try {
          const { server } = await bus.request(
            lifecycle.provision,
            {
              tenant_id: owner,
              server: {
                name: maxCount > 1 ? `${body.name}-${i + 1}` : body.name,
                region,
                type: type.data,
                image: image.id,
                availability_zone: zone,
                tags: body.metadata,
              },
              simulate_failure: failure,
            },
            ctx(request),
          );
          made.push(server);
        } catch (err) {
          const room = err instanceof AppError && (err.code === "QUOTA_EXCEEDED" || err.code === "EXHAUSTED");
          if (room && made.length >= minCount) break;
          // Fewer than min_count: none is made, as Nova would.
          await Promise.allSettled(
            made.map((s) =>
              bus.request(
                lifecycle.action,
                { id: s.id, tenant_id: owner, action: "terminate" },
                ctx(request),
              ),
            ),
          );
          throw err;
        }
      }
      const first = made[0];
      if (!first) throw new OsError(500, "no server was made");
      const urls = urlsOf(request);
      return reply
        .code(202)
        .header("location", `${urls.versioned}/servers/${first.id}`)
        .send({
          server: {
            id: first.id,
            links: serverSummary(first, view(request)).links,
            adminPass: body.adminPass ?? adminPass(),
            "OS-DCF:diskConfig": "AUTO",
            security_groups: [{ name: "default" }],
          },
        });
    });

    /** An action, with Nova's 409 when the server's state does not allow it. */
    const act = async (request: FastifyRequest, server: Server, action: ServerAction, nova: string) => {
      const simulated = request.headers["x-simulate-failure"];
      const failure =
        action !== "terminate" && action === simulated && simulated !== "stop" ? simulated : undefined;
      return bus
        .request(
          lifecycle.action,
          {
            id: server.id,
            tenant_id: scope(request),
            action,
            simulate_failure: failure as "start" | "reboot" | undefined,
          },
          ctx(request),
        )
        .catch((err: unknown) => {
          if (err instanceof AppError && err.code === "CONFLICT") {
            const state = (err.details.state as Server["state"] | undefined) ?? server.state;
            const { attribute, value } = refusalOf(state);
            throw invalidState(nova, server.id, attribute, value);
          }
          throw err;
        });
    };

    app.delete<{ Params: { id: string } }>("/v2.1/servers/:id", hidden, async (request, reply) => {
      const server = await serverOf(request, request.params.id);
      if (server.state !== "terminating") await act(request, server, "terminate", "delete");
      return reply.code(204).send();
    });

    app.post<{ Params: { id: string } }>("/v2.1/servers/:id/action", hidden, async (request, reply) => {
      const body = request.body;
      if (typeof body !== "object" || body === null || Array.isArray(body))
        throw badRequest("Malformed request body");
      const keys = Object.keys(body);
      const name = keys[0] ?? "";
      if (keys.length !== 1 || !Object.hasOwn(ActionBodies, name))
        throw badRequest(`There is no such action: ${name.slice(0, 100)}`);
      const key = name as keyof typeof ActionBodies;
      const parsed = ActionBodies[key].safeParse((body as Record<string, unknown>)[key]);
      if (!parsed.success) throw zodField(parsed.error, key);
      const server = await serverOf(request, request.params.id);
      const { action, nova } = novaActionNames[key];
      await act(request, server, action, nova);
      return reply.code(202).send();
    });

    /** The server's actions (Nova's instance actions) from its log, newest first. */
    const instanceActions = async (request: FastifyRequest, server: Server) => {
      const entries: LogEntry[] = [];
      let cursor: string | undefined;
      for (let page = 0; page < MAX_LOG_PAGES; page++) {
        const found = await bus.request(
          lifecycle.logs,
          { id: server.id, tenant_id: scope(request), limit: 100, cursor },
          ctx(request),
        );
        entries.push(...found.items);
        if (!found.next_cursor) break;
        cursor = found.next_cursor;
      }
      const tenantId = view(request).tenantId;
      return entries.flatMap((entry) => {
        const action =
          entry.to_state && entry.from_state !== entry.to_state ? actionOfState[entry.to_state] : undefined;
        if (!action || entry.actor === "system") return [];
        const at = novaTime(entry.at).replace(/Z$/, ".000000");
        return [
          {
            action,
            instance_uuid: server.id,
            message: null,
            project_id: tenantId,
            request_id: entry.request_id ?? `req-${entry.id}`,
            start_time: at,
            user_id: tenantId,
            ...(stateOf(request).minor >= 58 && { updated_at: at }),
          },
        ];
      });
    };

    app.get<{ Params: { id: string } }>("/v2.1/servers/:id/os-instance-actions", hidden, async (request) => {
      const server = await serverOf(request, request.params.id, true);
      return { instanceActions: await instanceActions(request, server) };
    });

    app.get<{ Params: { id: string; requestId: string } }>(
      "/v2.1/servers/:id/os-instance-actions/:requestId",
      hidden,
      async (request) => {
        const server = await serverOf(request, request.params.id, true);
        const found = (await instanceActions(request, server)).find(
          (a) => a.request_id === request.params.requestId,
        );
        if (!found) throw actionNotFound(request.params.requestId);
        return {
          instanceAction: {
            ...found,
            events: [
              {
                event: `compute_${found.action}_instance`,
                start_time: found.start_time,
                finish_time: found.start_time,
                result: "Success",
                traceback: null,
              },
            ],
          },
        };
      },
    );

    /** The flavors (instance types) after the marker, up to the limit, with minRam/minDisk. */
    const flavorPage = (request: FastifyRequest) => {
      const size = pageLimit(queryParam(request, "limit"), config.OPENSTACK_MAX_PAGE);
      const minRam = Number(queryParam(request, "minRam") ?? 0);
      const minDisk = Number(queryParam(request, "minDisk") ?? 0);
      if (Number.isNaN(minRam)) throw badRequest(`Invalid minRam filter [${queryParam(request, "minRam")}]`);
      if (Number.isNaN(minDisk))
        throw badRequest(`Invalid minDisk filter [${queryParam(request, "minDisk")}]`);
      let names = instanceTypeNames.filter((n) => instanceTypes[n].memory_mib >= minRam && minDisk <= 0);
      const marker = queryParam(request, "marker");
      if (marker !== undefined) {
        const at = names.indexOf(marker as InstanceTypeName);
        if (at < 0) throw badRequest(`marker [${marker}] not found`);
        names = names.slice(at + 1);
      }
      return { names: names.slice(0, size), size };
    };

    app.get("/v2.1/flavors", hidden, async (request) => {
      const { names, size } = flavorPage(request);
      const links = nextLinks(
        request,
        "flavors",
        names.map((id) => ({ id })),
        size,
      );
      return {
        flavors: names.map((n) => {
          const { id, name, links } = flavorBody(n, urlsOf(request), stateOf(request).minor);
          return { id, name, links };
        }),
        ...(links && { flavors_links: links }),
      };
    });

    app.get("/v2.1/flavors/detail", hidden, async (request) => {
      const { names, size } = flavorPage(request);
      const links = nextLinks(
        request,
        "flavors/detail",
        names.map((id) => ({ id })),
        size,
      );
      return {
        flavors: names.map((n) => flavorBody(n, urlsOf(request), stateOf(request).minor)),
        ...(links && { flavors_links: links }),
      };
    });

    const flavorOf = (id: string): InstanceTypeName => {
      const type = InstanceType.safeParse(id);
      if (!type.success) throw flavorNotFound(id);
      return type.data;
    };

    app.get<{ Params: { id: string } }>("/v2.1/flavors/:id", hidden, async (request) => ({
      flavor: flavorBody(flavorOf(request.params.id), urlsOf(request), stateOf(request).minor),
    }));

    app.get<{ Params: { id: string } }>("/v2.1/flavors/:id/os-extra_specs", hidden, async (request) => {
      flavorOf(request.params.id);
      return { extra_specs: {} };
    });

    app.get<{ Params: { id: string; key: string } }>(
      "/v2.1/flavors/:id/os-extra_specs/:key",
      hidden,
      async (request) => {
        const id = flavorOf(request.params.id);
        throw new OsError(
          404,
          `Flavor ${id} has no extra specs with key ${request.params.key.slice(0, 255)}.`,
        );
      },
    );

    const zones = async () => ({
      availabilityZoneInfo: zonesOf(region).map((zoneName) => ({
        zoneName,
        zoneState: { available: true },
        hosts: null,
      })),
    });
    app.get("/v2.1/os-availability-zone", hidden, zones);
    app.get("/v2.1/os-availability-zone/detail", hidden, zones);
  };
}
