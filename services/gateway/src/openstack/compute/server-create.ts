import { randomBytes } from "node:crypto";
import { AppError, InstanceType, lifecycle, MAX_SERVER_TAGS, type Server, zonesOf } from "@cloudsim/shared";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { hiddenRoute, osRequestId } from "../context.ts";
import { badRequest, forbidden, invalidField, OsError } from "../errors.ts";
import { catalogueImage } from "../images.ts";
import { serverSummary } from "../render.ts";
import { CreateBody, type CreateRequest, zodField } from "./bodies.ts";
import { busContext, type ComputeEndpoint, ownerOf, urlsOf, viewOf } from "./context.ts";
import { placementOf } from "./server-placement.ts";

/** The most servers one create makes (min_count/max_count). */
const MAX_CREATE_COUNT = 100;
const SERVER_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

/** Nova shows a generated admin password when none is given; nothing uses it here. */
const adminPass = () => randomBytes(9).toString("base64url").replace(/[-_]/g, "x");

/** How many servers to make: at least min_count, at most max_count (1 and 1 when absent). */
function countsOf(body: CreateRequest) {
  const minCount = body.min_count ?? 1;
  const maxCount = body.max_count ?? minCount;
  if (minCount < 1) throw invalidField("server/min_count", "Value must be >= 1.");
  if (maxCount < 1 || maxCount > MAX_CREATE_COUNT)
    throw invalidField("server/max_count", `Value must be 1 to ${MAX_CREATE_COUNT}.`);
  if (minCount > maxCount) throw badRequest("min_count must be <= max_count");
  return { minCount, maxCount };
}

/** The request checked and resolved, in Nova's order: what each server to make is. */
async function createSpecOf(endpoint: ComputeEndpoint, request: FastifyRequest) {
  const parsed = CreateBody.safeParse(request.body);
  if (!parsed.success) throw zodField(parsed.error, "");
  const body = parsed.data.server;
  if (!SERVER_NAME.test(body.name))
    throw invalidField(
      "server/name",
      "cloudsim names are 1-63 of A-Z a-z 0-9 _ . - starting with a letter or digit.",
    );
  const imageRef = body.imageRef.split("/").pop() ?? "";
  const image = await catalogueImage(endpoint.bus, osRequestId(request), imageRef);
  if (!image) throw badRequest("Can not find requested image");
  const type = InstanceType.safeParse(body.flavorRef.split("/").pop() ?? "");
  if (!type.success) throw badRequest("Invalid flavorRef provided.");
  const zone = body.availability_zone?.split(":")[0] || undefined;
  if (zone !== undefined && !zonesOf(endpoint.region).includes(zone))
    throw badRequest(`The requested availability zone is not available`);
  if (Object.keys(body.metadata ?? {}).length > MAX_SERVER_TAGS)
    throw forbidden(`Maximum number of metadata items exceeds ${MAX_SERVER_TAGS}`);
  const counts = countsOf(body);
  const placement = await placementOf(endpoint, request, body, zone);
  return { body, image: image.id, type: type.data, placement, ...counts };
}
type CreateSpec = Awaited<ReturnType<typeof createSpecOf>>;

/** Terminates what a create made before it failed. */
async function undo(endpoint: ComputeEndpoint, request: FastifyRequest, made: Server[]) {
  const terminate = (s: Server) =>
    endpoint.bus.request(
      lifecycle.action,
      { id: s.id, tenant_id: ownerOf(request), action: "terminate" },
      busContext(request),
    );
  await Promise.allSettled(made.map(terminate));
}

/** Up to max_count servers, stopping at the quota or capacity once min_count are made. */
async function provisionAll(endpoint: ComputeEndpoint, request: FastifyRequest, spec: CreateSpec) {
  const failure = request.headers["x-simulate-failure"] === "provision" ? ("provision" as const) : undefined;
  const made: Server[] = [];
  for (let i = 0; i < spec.maxCount; i++) {
    const server = {
      name: spec.maxCount > 1 ? `${spec.body.name}-${i + 1}` : spec.body.name,
      region: endpoint.region,
      type: spec.type,
      image: spec.image,
      availability_zone: spec.placement.availability_zone,
      tags: spec.body.metadata,
    };
    try {
      const command = {
        tenant_id: ownerOf(request),
        server,
        key_name: spec.body.key_name ?? undefined,
        network: spec.placement.network,
        simulate_failure: failure,
      };
      made.push((await endpoint.bus.request(lifecycle.provision, command, busContext(request))).server);
    } catch (err) {
      const room = err instanceof AppError && (err.code === "QUOTA_EXCEEDED" || err.code === "EXHAUSTED");
      if (room && made.length >= spec.minCount) break;
      // Fewer than min_count: none is made, as Nova would.
      await undo(endpoint, request, made);
      if (err instanceof AppError && err.code === "NOT_FOUND" && err.details.key_name !== undefined)
        throw badRequest("Invalid key_name provided.");
      throw err;
    }
  }
  return made;
}

/** POST /servers: 202 with the first server's id and links (Nova's reservation answer). */
export function serverCreateRoutes(app: FastifyInstance, endpoint: ComputeEndpoint) {
  app.post("/v2.1/servers", hiddenRoute, async (request, reply) => {
    const spec = await createSpecOf(endpoint, request);
    const [first] = await provisionAll(endpoint, request, spec);
    if (!first) throw new OsError(500, "no server was made");
    if (spec.body.return_reservation_id)
      return reply.code(202).send({ reservation_id: first.reservation_id });
    return reply
      .code(202)
      .header("location", `${urlsOf(endpoint, request).versioned}/servers/${first.id}`)
      .send({
        server: {
          id: first.id,
          links: serverSummary(first, viewOf(endpoint, request)).links,
          adminPass: spec.body.adminPass ?? adminPass(),
          "OS-DCF:diskConfig": "AUTO",
          security_groups: spec.placement.network.security_groups.map((g) => ({ name: g.name })),
        },
      });
  });
}
