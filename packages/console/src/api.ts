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

/** What the page shows of a failure: an ApiError's message is the API's problem, as described above. */
export const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err));

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

/** The EC2 world around servers, as GET /vpcs, /subnets, /security-groups, /addresses, /volumes, /key-pairs list it. */
export interface Vpc {
  vpc_id: string;
  owner_id: string;
  cidr_block: string;
  is_default: boolean;
  tags: Record<string, string>;
}

export interface Subnet {
  subnet_id: string;
  vpc_id: string;
  cidr_block: string;
  availability_zone: string;
  available_ip_address_count: number;
  default_for_az: boolean;
  tags: Record<string, string>;
}

export interface SecurityGroupRule {
  rule_id: string;
  is_egress: boolean;
  protocol: string;
  from_port: number | null;
  to_port: number | null;
  cidr_ipv4: string | null;
  cidr_ipv6: string | null;
  referenced_group_id: string | null;
}

export interface SecurityGroup {
  group_id: string;
  group_name: string;
  vpc_id: string;
  is_default: boolean;
  rules: SecurityGroupRule[];
}

export interface ElasticIp {
  allocation_id: string;
  public_ip: string;
  association_id: string | null;
  instance_id: string | null;
  private_ip_address: string | null;
}

export interface VolumeAttachment {
  instance_id: string;
  device: string;
  status: "attaching" | "attached" | "detaching";
  delete_on_termination: boolean;
}

export interface Volume {
  id: string;
  volume_id: string;
  region: string;
  availability_zone: string;
  size_gib: number;
  volume_type: string;
  state: "creating" | "available" | "in-use" | "deleting" | "deleted";
  attachment: VolumeAttachment | null;
}

export interface KeyPair {
  key_pair_id: string;
  key_name: string;
  key_type: "rsa" | "ed25519";
  fingerprint: string;
}
