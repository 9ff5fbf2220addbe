import type { FastifyInstance } from "fastify";
import { osRequestId } from "./context.ts";
import { notFound, type OsError, osErrorOf } from "./errors.ts";

/** How one OpenStack service answers: its error body, the headers an error adds, its request-id headers. */
export interface OsServiceReplies {
  /** As the log names it: "compute", "identity", "image". */
  service: string;
  errorBody: (error: OsError) => unknown;
  errorHeaders: (error: OsError) => Record<string, string>;
  requestIdHeaders: readonly string[];
  /** What an error is in this service (left out: osErrorOf, the face's one mapping). */
  errorOf?: (err: unknown) => OsError;
}

/** Retry-After on a rate-limited answer, so clients back off as OpenStack's tell them to. */
export const retryAfterHeader = (error: OsError): Record<string, string> =>
  error.retryAfter === undefined ? {} : { "retry-after": String(error.retryAfter) };

/**
 * An empty body is no body, even under `Content-Type: application/json`: OpenStack's services
 * ignore it, and clients (Tempest's) send that header on every DELETE. Other bodies are parsed
 * as the gateway's JSON parser does, prototype poisoning refused.
 */
function acceptEmptyJson(app: FastifyInstance) {
  const json = app.getDefaultJsonParser("error", "error");
  app.removeContentTypeParser("application/json");
  app.addContentTypeParser("application/json", { parseAs: "string" }, (request, body, done) => {
    if (body === "") return done(null, undefined);
    return json(request, body.toString(), done);
  });
}

/**
 * Every error and unknown route of `app` in the service's shape, its request id on every answer,
 * and an empty JSON body taken as none.
 */
export function installOsReplies(app: FastifyInstance, replies: OsServiceReplies) {
  acceptEmptyJson(app);
  app.setErrorHandler((err, request, reply) => {
    const error = (replies.errorOf ?? osErrorOf)(err);
    if (error.status >= 500) request.log.error({ err }, `${replies.service} request failed`);
    reply.headers(replies.errorHeaders(error));
    return reply.code(error.status).type("application/json").send(replies.errorBody(error));
  });
  app.setNotFoundHandler((_request, reply) =>
    reply.code(404).type("application/json").send(replies.errorBody(notFound())),
  );
  app.addHook("onRequest", async (request, reply) => {
    const id = osRequestId(request);
    for (const header of replies.requestIdHeaders) reply.header(header, id);
  });
}
