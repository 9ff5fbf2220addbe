import { AppError, type ErrorCode } from "@cloudsim/shared";

/**
 * Nova's fault names by HTTP status (nova/api/openstack/wsgi.py `Fault._fault_names`, NOVA.md §5);
 * any other status is computeFault.
 */
const novaFaultNames: Record<number, string> = {
  400: "badRequest",
  401: "unauthorized",
  403: "forbidden",
  404: "itemNotFound",
  405: "badMethod",
  406: "notAcceptable",
  409: "conflictingRequest",
  413: "overLimit",
  415: "badMediaType",
  429: "overLimit",
  501: "notImplemented",
  503: "serviceUnavailable",
};

/** Keystone's titles by status, for `{"error":{"code","title","message"}}`. */
const titles: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  406: "Not Acceptable",
  409: "Conflict",
  413: "Request Entity Too Large",
  429: "Too Many Requests",
  500: "Internal Server Error",
  503: "Service Unavailable",
  504: "Gateway Timeout",
};

/** An error as the OpenStack face answers it: a status and a message, in each service's shape. */
export class OsError extends Error {
  override readonly name = "OsError";
  constructor(
    readonly status: number,
    message: string,
    readonly retryAfter?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

const MAX_ECHOED_VALUE = 200;
const clip = (value: string) =>
  value.length > MAX_ECHOED_VALUE ? `${value.slice(0, MAX_ECHOED_VALUE)}…` : value;

export const UNAUTHENTICATED = "The request you have made requires authentication.";
export const unauthorized = () => new OsError(401, UNAUTHENTICATED);
export const badRequest = (message: string) => new OsError(400, clip(message));
/** Nova's message for a field that does not validate, naming it. */
export const invalidField = (field: string, why: string) =>
  badRequest(`Invalid input for field/attribute ${field}. ${why}`);
export const serverNotFound = (id: string) => new OsError(404, `Instance ${clip(id)} could not be found.`);
export const flavorNotFound = (id: string) => new OsError(404, `Flavor ${clip(id)} could not be found.`);
export const imageNotFound = (id: string) => new OsError(404, `No image found with ID ${clip(id)}`);
export const actionNotFound = (id: string) =>
  new OsError(404, `Action for request_id ${clip(id)} on instance could not be found`);
export const notFound = () => new OsError(404, "The resource could not be found.");
export const forbidden = (message = "Policy doesn't allow this operation to be performed.") =>
  new OsError(403, message);
export const internal = () =>
  new OsError(
    500,
    "Unexpected API Error. Please report this at http://bugs.launchpad.net/nova/ and attach the Nova API log if possible.",
  );

/** Nova's 409 for an action the server's state does not allow (nova/api/openstack/common.py). */
export const invalidState = (
  action: string,
  id: string,
  attribute: "vm_state" | "task_state",
  state: string,
) => new OsError(409, `Cannot '${action}' instance ${id} while it is in ${attribute} ${state}`);

const num = (value: unknown) => (typeof value === "number" ? value : 0);

/** Nova's TooManyInstances: "Quota exceeded for instances: Requested 1, but already used 2 of 2 instances". */
function quotaMessage(err: AppError): string {
  const cores = err.details.quota === "max_vcpus";
  const resource = cores ? "cores" : "instances";
  return `Quota exceeded for ${resource}: Requested ${num(err.details.requested)}, but already used ${num(err.details.usage)} of ${num(err.details.limit)} ${resource}`;
}

function notFoundOf(err: AppError): OsError {
  const server = err.details.server_id ?? err.details.instance_id ?? err.details.id;
  if (typeof server === "string") return serverNotFound(server);
  return new OsError(404, err.message);
}

/** The one place that decides what each cloudsim error code is in OpenStack: its status and message. */
const fromAppError = {
  VALIDATION: (err) => badRequest(err.message),
  NOT_FOUND: notFoundOf,
  CONFLICT: (err) => new OsError(409, err.message),
  EXHAUSTED: (err) =>
    err.details.reason === "capacity"
      ? new OsError(409, `No valid host was found. ${err.message}`)
      : badRequest(`No fixed IP addresses available for network: ${err.message}`),
  QUOTA_EXCEEDED: (err) => forbidden(quotaMessage(err)),
  RATE_LIMITED: (err) =>
    new OsError(429, "This request was rate-limited.", num(err.details.retry_after_seconds) || 1),
  UNAUTHORIZED: () => unauthorized(),
  FORBIDDEN: () => forbidden(),
  UNAVAILABLE: () => new OsError(503, "The service is unavailable. Please try again shortly."),
  TIMEOUT: (err) => new OsError(504, `${err.message}; whether it happened is unknown: look with GET`),
  TOO_LARGE: (err) => badRequest(err.message),
  INTERNAL: () => internal(),
} satisfies Record<ErrorCode, (err: AppError) => OsError>;

/** Any error as the OpenStack face reports it; internal messages never leave (the cause keeps them). */
export function osErrorOf(err: unknown): OsError {
  if (err instanceof OsError) return err;
  const framework = err as { statusCode?: number; message?: string };
  const mapped =
    err instanceof AppError
      ? fromAppError[err.code](err)
      : framework.statusCode && framework.statusCode >= 400 && framework.statusCode < 500
        ? new OsError(framework.statusCode, clip(framework.message ?? "Bad request"))
        : internal();
  mapped.cause = err;
  return mapped;
}

/** Nova's fault body: `{"itemNotFound":{"code":404,"message":"…"}}`. */
export function novaFault(error: OsError) {
  const name = novaFaultNames[error.status] ?? "computeFault";
  return {
    [name]: {
      code: error.status,
      message: error.message,
      ...(error.retryAfter !== undefined && { retryAfter: String(error.retryAfter) }),
    },
  };
}

/** Keystone's (and here Glance's) error body: `{"error":{"code":401,"title":"Unauthorized","message":"…"}}`. */
export function keystoneError(error: OsError) {
  return { error: { code: error.status, title: titles[error.status] ?? "Error", message: error.message } };
}
