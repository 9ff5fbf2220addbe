import type { FastifyInstance } from "fastify";
import { hiddenRoute } from "../context.ts";
import { badRequest } from "../errors.ts";
import { ActionBodies, type ActionKey, novaActionNames, zodField } from "./bodies.ts";
import type { ComputeEndpoint } from "./context.ts";
import { act, serverOf } from "./server-commands.ts";

/** The one action a body names (`{"os-stop": null}`), its body checked. */
function actionOf(body: unknown): ActionKey {
  if (typeof body !== "object" || body === null || Array.isArray(body))
    throw badRequest("Malformed request body");
  const keys = Object.keys(body);
  const name = keys[0] ?? "";
  if (keys.length !== 1 || !Object.hasOwn(ActionBodies, name))
    throw badRequest(`There is no such action: ${name.slice(0, 100)}`);
  const key = name as ActionKey;
  const parsed = ActionBodies[key].safeParse((body as Record<string, unknown>)[key]);
  if (!parsed.success) throw zodField(parsed.error, key);
  return key;
}

/** DELETE /servers/{id} and POST /servers/{id}/action (os-stop, os-start, reboot). */
export function serverActionRoutes(app: FastifyInstance, endpoint: ComputeEndpoint) {
  app.delete<{ Params: { id: string } }>("/v2.1/servers/:id", hiddenRoute, async (request, reply) => {
    const server = await serverOf(endpoint, request, request.params.id);
    if (server.state !== "terminating") await act(endpoint, request, server, "terminate", "delete");
    return reply.code(204).send();
  });

  app.post<{ Params: { id: string } }>("/v2.1/servers/:id/action", hiddenRoute, async (request, reply) => {
    const key = actionOf(request.body);
    const server = await serverOf(endpoint, request, request.params.id);
    const { action, nova } = novaActionNames[key];
    await act(endpoint, request, server, action, nova);
    return reply.code(202).send();
  });
}
