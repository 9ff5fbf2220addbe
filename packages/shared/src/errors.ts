/**
 * The error catalogue: every error that crosses a service border has one of these codes.
 * The gateway maps a code to HTTP once (see services/gateway/src/errors.ts); services raise
 * AppError where the failure happens and the NATS helpers carry the code on the wire.
 */
export const errorCatalogue = {
  VALIDATION: { status: 400, retryable: false, title: "Invalid request" },
  UNAUTHORIZED: { status: 401, retryable: false, title: "Unauthorized" },
  FORBIDDEN: { status: 403, retryable: false, title: "Forbidden" },
  NOT_FOUND: { status: 404, retryable: false, title: "Not found" },
  CONFLICT: { status: 409, retryable: false, title: "Conflict" },
  EXHAUSTED: { status: 409, retryable: false, title: "Capacity exhausted" },
  QUOTA_EXCEEDED: { status: 409, retryable: false, title: "Quota exceeded" },
  RATE_LIMITED: { status: 429, retryable: true, title: "Too many requests" },
  UNAVAILABLE: { status: 503, retryable: true, title: "Service unavailable" },
  /** The caller gave up waiting: whether it happened is unknown (retry with the same key, or look). */
  TIMEOUT: { status: 504, retryable: true, title: "Outcome unknown" },
  /** An answer that would not fit a NATS message: ask for a smaller page. */
  TOO_LARGE: { status: 413, retryable: false, title: "Answer too large" },
  INTERNAL: { status: 500, retryable: true, title: "Internal error" },
} as const satisfies Record<string, { status: number; retryable: boolean; title: string }>;

export type ErrorCode = keyof typeof errorCatalogue;
export const errorCodes = Object.keys(errorCatalogue) as ErrorCode[];

export type ErrorDetails = Record<string, unknown>;

/** An error with a catalogue code, safe to send over the wire (message and details only, no stack). */
export class AppError extends Error {
  override readonly name = "AppError";
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: ErrorDetails = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  get retryable(): boolean {
    return errorCatalogue[this.code].retryable;
  }

  toWire(): WireError {
    return { code: this.code, message: this.message, details: this.details };
  }

  static fromWire(wire: WireError): AppError {
    const code = isErrorCode(wire.code) ? wire.code : "INTERNAL";
    return new AppError(code, wire.message, wire.details ?? {});
  }
}

export interface WireError {
  code: string;
  message: string;
  details?: ErrorDetails;
}

export function isErrorCode(value: string): value is ErrorCode {
  return Object.hasOwn(errorCatalogue, value);
}

export const notFound = (what: string, id: string) =>
  new AppError("NOT_FOUND", `${what} ${id} does not exist`, { [`${what}_id`]: id });

/** Socket errors of a database that is not there (down, restarting, unreachable). */
const unreachableCodes = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
]);

/**
 * Whether `err` (or an error it wraps, as drizzle's DrizzleQueryError does) says the database is
 * gone for now: a refused or broken connection, SQLSTATE class 08 (connection exception), or
 * 57P01-57P03 (shut down by an administrator, crashed, not accepting connections yet). node-postgres
 * gives a connection it saw end no code, only its message.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  for (let e = err; e instanceof Error; e = e.cause) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && (unreachableCodes.has(code) || /^(08...|57P0[123])$/.test(code)))
      return true;
    if (/^Connection terminated|is not queryable/.test(e.message)) return true;
  }
  return false;
}

/**
 * The catalogue error a failure is answered with: an AppError as it is, the database being away
 * as UNAVAILABLE (a retry later will do), anything else as INTERNAL.
 */
export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  if (isDatabaseUnavailable(err))
    return new AppError(
      "UNAVAILABLE",
      "the database is unavailable; retry shortly",
      { dependency: "postgres" },
      { cause: err },
    );
  return new AppError("INTERNAL", "internal error", {}, { cause: err });
}
