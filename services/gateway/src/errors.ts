import { AppError, type ErrorCode, errorCatalogue } from "@cloudsim/shared";
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { hasZodFastifySchemaValidationErrors } from "fastify-type-provider-zod";
import { z } from "zod";

export const PROBLEM_JSON = "application/problem+json";

/** RFC 9457 problem details, with our code and the request id. */
export const Problem = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    instance: z.string(),
    code: z.string(),
    request_id: z.string(),
  })
  .loose()
  .meta({ id: "Problem" });

/** Where each code ends up in HTTP: the one place that decides it. */
export function statusOf(code: ErrorCode): number {
  return errorCatalogue[code].status;
}

/** What a caller can do when it cannot know whether its request happened. */
const outcomeUnknown =
  "Whether it happened is unknown: retry with the same Idempotency-Key (you get the server it made, or it is made then), or look with GET.";

function problem(request: FastifyRequest, error: AppError, status = statusOf(error.code)) {
  return {
    type: `urn:cloudsim:problem:${error.code.toLowerCase()}`,
    title: errorCatalogue[error.code].title,
    status,
    detail: error.code === "TIMEOUT" ? `${error.message}. ${outcomeUnknown}` : error.message,
    instance: request.url,
    code: error.code,
    request_id: String(request.id),
    ...error.details,
  };
}

export function sendProblem(request: FastifyRequest, reply: FastifyReply, error: AppError, status?: number) {
  const body = problem(request, error, status);
  if (body.status === 503 || body.status === 504) reply.header("retry-after", "1");
  if (error.code === "RATE_LIMITED")
    reply.header("retry-after", String(error.details.retry_after_seconds ?? 1));
  if (error.code === "UNAUTHORIZED") reply.header("www-authenticate", 'Bearer realm="cloudsim"');
  return reply.code(body.status).type(PROBLEM_JSON).send(body);
}

/** A schema failure from the zod validator, naming each field and where it was. */
function fromValidation(error: FastifyError): AppError {
  const where = error.validationContext ?? "body";
  const fields = (error.validation ?? []).map((v) => {
    const path = v.instancePath.replace(/^\//, "").replaceAll("/", ".");
    // An unknown key is named by the key itself, not by the object that holds it.
    const keys = (v.params as { keys?: string[] }).keys;
    const field = keys?.length ? [path, ...keys].filter(Boolean).join(".") : path;
    return { field: field || where, in: where, message: v.message ?? "invalid" };
  });
  return new AppError("VALIDATION", fields.map((f) => `${f.field}: ${f.message}`).join("; "), { fields });
}

/** Maps every error the app meets to problem+json; 5xx details stay in the log. */
export function installErrorHandlers(app: FastifyInstance) {
  app.setErrorHandler((err: FastifyError, request, reply) => {
    if (err instanceof AppError) {
      if (err.code === "INTERNAL") request.log.error({ err }, "internal error");
      return sendProblem(request, reply, err);
    }
    if (hasZodFastifySchemaValidationErrors(err)) return sendProblem(request, reply, fromValidation(err));
    const status = err.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      // The framework's own refusals (malformed JSON, body too large, wrong media type) keep their status;
      // the body parser's (FST_ERR_CTP_*) name the body as the field, as a schema failure of the body would.
      const fields = err.code?.startsWith("FST_ERR_CTP_")
        ? [{ field: "body", in: "body", message: err.message }]
        : undefined;
      const detail = fields ? `body: ${err.message}` : err.message;
      return sendProblem(request, reply, new AppError("VALIDATION", detail, fields && { fields }), status);
    }
    request.log.error({ err }, "unhandled error");
    return sendProblem(request, reply, new AppError("INTERNAL", "internal error"));
  });
  app.setNotFoundHandler((request, reply) =>
    sendProblem(
      request,
      reply,
      new AppError("NOT_FOUND", `no route ${request.method} ${request.url.split("?")[0]}`),
    ),
  );
}
