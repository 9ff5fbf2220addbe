import { type LogEntry, lifecycle, type Server } from "@cloudsim/shared";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { hiddenRoute } from "../context.ts";
import { actionNotFound } from "../errors.ts";
import { cursorPages } from "../paging.ts";
import { novaTime } from "../render.ts";
import { actionOfState } from "../states.ts";
import { busContext, type ComputeEndpoint, minorOf, ownerOf, scopeOf } from "./context.ts";
import { serverOf } from "./server-commands.ts";

/** Log pages read for os-instance-actions at most. */
const MAX_LOG_PAGES = 10;

async function logOf(endpoint: ComputeEndpoint, request: FastifyRequest, server: Server) {
  const read = (cursor: string | undefined) =>
    endpoint.bus.request(
      lifecycle.logs,
      { id: server.id, tenant_id: scopeOf(request), limit: 100, cursor },
      busContext(request),
    );
  const entries: LogEntry[] = [];
  for await (const page of cursorPages(read, MAX_LOG_PAGES)) entries.push(...page);
  return entries;
}

/** The server's actions (Nova's instance actions) from its log: each state change a caller asked for. */
async function instanceActions(endpoint: ComputeEndpoint, request: FastifyRequest, server: Server) {
  const tenantId = ownerOf(request);
  return (await logOf(endpoint, request, server)).flatMap((entry) => {
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
        ...(minorOf(request) >= 58 && { updated_at: at }),
      },
    ];
  });
}

/** GET /servers/{id}/os-instance-actions and one of them by request id, with its one event. */
export function instanceActionRoutes(app: FastifyInstance, endpoint: ComputeEndpoint) {
  app.get<{ Params: { id: string } }>(
    "/v2.1/servers/:id/os-instance-actions",
    hiddenRoute,
    async (request) => {
      const server = await serverOf(endpoint, request, request.params.id, true);
      return { instanceActions: await instanceActions(endpoint, request, server) };
    },
  );

  app.get<{ Params: { id: string; requestId: string } }>(
    "/v2.1/servers/:id/os-instance-actions/:requestId",
    hiddenRoute,
    async (request) => {
      const server = await serverOf(endpoint, request, request.params.id, true);
      const { requestId } = request.params;
      const found = (await instanceActions(endpoint, request, server)).find(
        (a) => a.request_id === requestId,
      );
      if (!found) throw actionNotFound(requestId);
      const event = {
        event: `compute_${found.action}_instance`,
        start_time: found.start_time,
        finish_time: found.start_time,
        result: "Success",
        traceback: null,
      };
      return { instanceAction: { ...found, events: [event] } };
    },
  );
}
