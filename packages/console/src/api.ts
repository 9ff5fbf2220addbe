/** The REST API, as the page calls it: every request with `Authorization: Bearer <key>` once a key is set. */

const KEY_ITEM = "cloudsim.apiKey";

/** The API key lives in this tab's sessionStorage only. */
export const storedKey = (): string => sessionStorage.getItem(KEY_ITEM) ?? "";
export function storeKey(key: string) {
  if (key) sessionStorage.setItem(KEY_ITEM, key);
  else sessionStorage.removeItem(KEY_ITEM);
}

export const authHeaders = (): Record<string, string> => {
  const key = storedKey();
  return key ? { authorization: `Bearer ${key}` } : {};
};

/** An answer that was not 2xx: the API's problem+json, as it gave it. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Record<string, unknown>,
  ) {
    super(describeProblem(status, problem));
  }
}

/** `<status> <code>: <detail>`, plus what a 409 allows and which fields a 400 names. */
export function describeProblem(status: number, problem: Record<string, unknown>): string {
  const code = typeof problem.code === "string" ? ` ${problem.code}` : "";
  const detail =
    typeof problem.detail === "string"
      ? problem.detail
      : typeof problem.title === "string"
        ? problem.title
        : "request failed";
  let text = `${status}${code}: ${detail}`;
  const allowed = problem.allowed_actions;
  if (Array.isArray(allowed) && !detail.includes("allowed"))
    text += ` (allowed now: ${allowed.length > 0 ? allowed.join(", ") : "nothing"})`;
  const fields = problem.fields;
  if (fields && typeof fields === "object" && !Array.isArray(fields))
    text += ` — ${Object.entries(fields as Record<string, unknown>)
      .map(([field, why]) => `${field}: ${String(why)}`)
      .join("; ")}`;
  return text;
}

export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: "application/json", ...authHeaders() };
  if (body !== undefined) headers["content-type"] = "application/json";
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (err) {
    throw new ApiError(0, { detail: `the gateway did not answer (${String(err)})` });
  }
  const text = await response.text();
  let parsed: unknown = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = { detail: text };
  }
  if (!response.ok)
    throw new ApiError(
      response.status,
      parsed && typeof parsed === "object" ? (parsed as Record<string, unknown>) : { detail: text },
    );
  return parsed as T;
}

export type State =
  | "provisioning"
  | "running"
  | "stopping"
  | "stopped"
  | "starting"
  | "rebooting"
  | "terminating"
  | "terminated"
  | "error";

export const STATES: State[] = [
  "provisioning",
  "running",
  "starting",
  "rebooting",
  "stopping",
  "stopped",
  "terminating",
  "terminated",
  "error",
];
export const REGIONS = ["us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-1"];
export const TYPES = [
  "t2.nano",
  "t2.micro",
  "t2.small",
  "t2.medium",
  "t2.large",
  "t2.xlarge",
  "m5.large",
  "m5.xlarge",
  "c5.large",
];
/** A server is billed while in one of these. */
export const BILLABLE: State[] = ["running", "rebooting", "stopping"];

export interface BillingUsage {
  rate: string | null;
  billable_seconds: number;
  amount: string;
  currency: string;
  as_of: string;
}

export interface Server {
  id: string;
  instance_id: string;
  name: string;
  region: string;
  type: string;
  state: State;
  ip_address: string | null;
  tags: Record<string, string>;
  created_at: string;
  updated_at: string;
  running_since: string | null;
  uptime_seconds: number;
  billing?: BillingUsage | null;
}

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

export interface LogEntry {
  id: string;
  at: string;
  type: string;
  message: string;
  from_state: State | null;
  to_state: State | null;
  actor: string;
  request_id: string | null;
}

export interface Ledger {
  server_id: string;
  currency: string;
  billable_seconds: number;
  amount: string;
  items: { id: string; at: string; kind: string; billable_seconds: number; amount: string; rate: string }[];
  next_cursor: string | null;
}

export interface Pool {
  region: string;
  cidr: string;
  size: number;
  used: number;
  cooling_down: number;
  free: number;
}

export interface ReaperStatus {
  dry_run: boolean;
  idle_timeout_seconds: number;
  interval_seconds: number;
  exempt_tag: string;
  last_sweep: {
    started_at: string;
    finished_at: string;
    dry_run: boolean;
    candidates: number;
    reaped: number;
    spared: number;
    errors: number;
  } | null;
  totals: { sweeps: number; reaped: number; spared: number };
  watching: { stopped: number; idle: number };
}

export interface ClockNow {
  now: string;
  mode: "real" | "simulated";
  rate: number;
}
