import type { FastifyInstance, FastifyRequest } from "fastify";
import { hiddenRoute } from "../context.ts";
import { badRequest, invalidState } from "../errors.ts";
import { refusalOf } from "../states.ts";
import { ActionBodies, type ActionKey, novaActionNames, zodField } from "./bodies.ts";
import type { ComputeEndpoint } from "./context.ts";
import { act, serverOf } from "./server-commands.ts";

/**
 * Nova's server actions that cloudsim does not model. Nova finds the server before it runs one, so
 * for these a server that is not there is 404, as in Nova; one that is, the unknown action's 400.
 */
const UNMODELLED_ACTIONS = new Set([
  "addFloatingIp",
  "addSecurityGroup",
  "changePassword",
  "confirmResize",
  "createBackup",
  "createImage",
  "evacuate",
  "injectNetworkInfo",
  "lock",
  "migrate",
  "os-getConsoleOutput",
  "os-getRDPConsole",
  "os-getSerialConsole",
  "os-getSPICEConsole",
  "os-getVNCConsole",
  "os-migrateLive",
  "os-resetState",
  "pause",
  "rebuild",
  "removeFloatingIp",
  "removeSecurityGroup",
  "rescue",
  "resetNetwork",
  "resize",
  "resume",
  "revertResize",
  "shelve",
  "shelveOffload",
  "suspend",
  "trigger_crash_dump",
  "unlock",
  "unpause",
  "unrescue",
  "unshelve",
]);

/** The one action a body names (`{"os-stop": null}`). */
function actionNameOf(body: unknown): string {
  if (typeof body !== "object" || body === null || Array.isArray(body))
    throw badRequest("Malformed request body");
  const keys = Object.keys(body);
  const name = keys[0] ?? "";
  if (keys.length !== 1) throw badRequest(`There is no such action: ${name.slice(0, 100)}`);
  return name;
}

/** The action the face runs that a body names, its body checked. */
function actionOf(body: unknown, name: string): ActionKey {
  if (!Object.hasOwn(ActionBodies, name)) throw badRequest(`There is no such action: ${name.slice(0, 100)}`);
  const key = name as ActionKey;
  const parsed = ActionBodies[key].safeParse((body as Record<string, unknown>)[key]);
  if (!parsed.success) throw zodField(parsed.error, key);
  return key;
}

/**
 * The deferred-delete actions. A delete is never deferred here (nothing is soft-deleted), so
 * forceDelete is a delete, and restore Nova's 409 for a server not in vm_state soft-deleted.
 */
async function deferredDelete(
  endpoint: ComputeEndpoint,
  request: FastifyRequest<{ Params: { id: string } }>,
  name: string,
) {
  const server = await serverOf(endpoint, request, request.params.id);
  if (name === "restore") {
    const { attribute, value } = refusalOf(server.state);
    throw invalidState("restore", server.id, attribute, value);
  }
  if (server.state !== "terminating") await act(endpoint, request, server, "terminate", "forceDelete");
}

/** DELETE /servers/{id} and POST /servers/{id}/action (os-stop, os-start, reboot, forceDelete, restore). */
export function serverActionRoutes(app: FastifyInstance, endpoint: ComputeEndpoint) {
  app.delete<{ Params: { id: string } }>("/v2.1/servers/:id", hiddenRoute, async (request, reply) => {
    const server = await serverOf(endpoint, request, request.params.id);
    if (server.state !== "terminating") await act(endpoint, request, server, "terminate", "delete");
    return reply.code(204).send();
  });

  app.post<{ Params: { id: string } }>("/v2.1/servers/:id/action", hiddenRoute, async (request, reply) => {
    const name = actionNameOf(request.body);
    if (name === "forceDelete" || name === "restore") {
      await deferredDelete(endpoint, request, name);
      return reply.code(202).send();
    }
    if (UNMODELLED_ACTIONS.has(name)) {
      await serverOf(endpoint, request, request.params.id);
      throw badRequest(`There is no such action: ${name}`);
    }
    const key = actionOf(request.body, name);
    const server = await serverOf(endpoint, request, request.params.id);
    const { action, nova } = novaActionNames[key];
    await act(endpoint, request, server, action, nova);
    return reply.code(202).send();
  });
}
