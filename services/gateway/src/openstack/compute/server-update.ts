import { lifecycle, ServerName } from "@cloudsim/shared";
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { hiddenRoute } from "../context.ts";
import { serverBody } from "../render.ts";
import { zodField } from "./bodies.ts";
import { busContext, type ComputeEndpoint, scopeOf } from "./context.ts";
import { serverOf } from "./server-commands.ts";
import { serverViewOf } from "./server-networks.ts";

const notKept = (field: string) => `cloudsim keeps no ${field}: leave it out`;

/** PUT /servers/{id}: a new name; the fields cloudsim does not keep are refused, not dropped. */
const UpdateBody = z
  .object({
    server: z
      .object({
        name: ServerName.optional(),
        description: z.null(notKept("server description")).optional(),
        accessIPv4: z.never(notKept("access addresses")).optional(),
        accessIPv6: z.never(notKept("access addresses")).optional(),
        "OS-DCF:diskConfig": z.enum(["AUTO", "MANUAL"]).optional(),
      })
      .strict(),
  })
  .strict();

/** PUT /servers/{id}: renames the server (lifecycle.rename), answering its whole body as Nova does. */
export function serverUpdateRoutes(app: FastifyInstance, endpoint: ComputeEndpoint) {
  app.put<{ Params: { id: string } }>("/v2.1/servers/:id", hiddenRoute, async (request) => {
    const parsed = UpdateBody.safeParse(request.body);
    if (!parsed.success) throw zodField(parsed.error, "");
    let server = await serverOf(endpoint, request, request.params.id);
    const { name } = parsed.data.server;
    if (name !== undefined && name !== server.name)
      server = await endpoint.bus.request(
        lifecycle.rename,
        { id: server.id, tenant_id: scopeOf(request), name },
        busContext(request),
      );
    return { server: serverBody(server, await serverViewOf(endpoint, request, [server])) };
  });
}
