import { AsyncLocalStorage } from "node:async_hooks";
import { AppError } from "./errors.ts";

/**
 * A request's deadline (Unix milliseconds) travels with it: the gateway's NATS request sets it
 * from REQUEST_TIMEOUT, a handler runs under it (a little earlier: DEADLINE_MARGIN_MS, so its
 * work ends before the caller gives up and answers "outcome unknown"), and every request the
 * handler sends on carries what is left of it.
 */
export const DEADLINE_HEADER = "Cloudsim-Deadline";

/** How much sooner than its caller a handler stops: a share of the time left, at most 250 ms. */
export const deadlineMargin = (remainingMs: number) => Math.min(250, Math.floor(remainingMs * 0.1));

const scope = new AsyncLocalStorage<{ deadline: number }>();

/** Runs `fn` under `deadline`: its requests and its checks see it. */
export function withDeadline<T>(deadline: number, fn: () => T): T {
  return scope.run({ deadline }, fn);
}

/**
 * Runs `fn` outside the request's deadline: for what undoes a request's work after it failed
 * (giving back its address), which must happen even when the deadline is what failed it.
 */
export function withoutDeadline<T>(fn: () => T): T {
  return scope.exit(fn);
}

/** The deadline of the request in hand, if any. */
export function currentDeadline(): number | undefined {
  return scope.getStore()?.deadline;
}

/** The deadline header's value as a time, when it is one. */
export function parseDeadline(value: string | undefined): number | undefined {
  const ms = value && /^\d{13}$/.test(value) ? Number(value) : Number.NaN;
  return Number.isFinite(ms) ? ms : undefined;
}

/** TIMEOUT: the caller has given up (or will before this could finish), so nothing more is done. */
export function deadlinePassed(what: string, deadline: number): AppError {
  return new AppError("TIMEOUT", `${what}: the request's deadline passed, nothing was done`, {
    reason: "deadline",
    deadline: new Date(deadline).toISOString(),
  });
}
