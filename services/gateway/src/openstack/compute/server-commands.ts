import { AppError, lifecycle, type Server, type ServerAction } from "@cloudsim/shared";
import type { FastifyRequest } from "fastify";
import { isUuid } from "../context.ts";
import { invalidState, serverNotFound } from "../errors.ts";
import { refusalOf } from "../states.ts";
import { busContext, type ComputeEndpoint, scopeOf } from "./context.ts";

/**
 * The server `id` names in the endpoint's region; 404 in Nova's words otherwise (terminated ones
 * too, unless `terminated`).
 */
export async function serverOf(
  endpoint: ComputeEndpoint,
  request: FastifyRequest,
  id: string,
  terminated = false,
): Promise<Server> {
  if (!isUuid(id)) throw serverNotFound(id);
  const server = await endpoint.bus
    .request(lifecycle.get, { id, tenant_id: scopeOf(request) }, busContext(request))
    .catch((err: unknown) => {
      if (err instanceof AppError && (err.code === "NOT_FOUND" || err.code === "VALIDATION"))
        throw serverNotFound(id);
      throw err;
    });
  if (server.region !== endpoint.region || (server.state === "terminated" && !terminated))
    throw serverNotFound(id);
  return server;
}

/** The X-Simulate-Failure an action honours: start or reboot, when it names the action. */
function simulatedFailure(request: FastifyRequest, action: ServerAction) {
  const simulated = request.headers["x-simulate-failure"];
  const failure =
    action !== "terminate" && action === simulated && simulated !== "stop" ? simulated : undefined;
  return failure as "start" | "reboot" | undefined;
}

/** Runs `action` on the server, with Nova's 409 (named `nova`) when the server's state does not allow it. */
export async function act(
  endpoint: ComputeEndpoint,
  request: FastifyRequest,
  server: Server,
  action: ServerAction,
  nova: string,
) {
  const command = {
    id: server.id,
    tenant_id: scopeOf(request),
    action,
    simulate_failure: simulatedFailure(request, action),
  };
  return endpoint.bus.request(lifecycle.action, command, busContext(request)).catch((err: unknown) => {
    if (err instanceof AppError && err.code === "CONFLICT") {
      const state = (err.details.state as Server["state"] | undefined) ?? server.state;
      const { attribute, value } = refusalOf(state);
      throw invalidState(nova, server.id, attribute, value);
    }
    throw err;
  });
}
