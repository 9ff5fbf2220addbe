import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { authFailure, requestExpired, signatureDoesNotMatch } from "./errors.ts";

/** The parts of an `Authorization: AWS4-HMAC-SHA256 …` header (EC2.md §1.4). */
export interface SigV4Header {
  accessKeyId: string;
  /** The scope's date, YYYYMMDD. */
  date: string;
  /** Lower-cased, since it selects the simulated region and some clients send `US-WEST-2`. */
  region: string;
  service: string;
  /** `date/region/service/aws4_request` exactly as the client signed it (its region case kept). */
  scope: string;
  /** Lower-case header names, in the client's order. */
  signedHeaders: string[];
  /** 64 lower-case hex digits. */
  signature: string;
}

/** What the verifier needs of an HTTP request: `path` and `query` raw as on the wire, `body` as received. */
export interface SignedRequest {
  method: string;
  path: string;
  query: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

const ALGORITHM = "AWS4-HMAC-SHA256";
const MAX_HEADER_LENGTH = 4096;
const MAX_CLOCK_SKEW_MS = 15 * 60_000;

const CREDENTIAL = /^([^/\s]{1,128})\/(\d{8})\/([A-Za-z0-9-]{1,64})\/([a-z0-9-]{1,64})\/aws4_request$/;
const SIGNED_HEADERS = /^[!#$%&'*+.^_`|~0-9a-z-]+(;[!#$%&'*+.^_`|~0-9a-z-]+)*$/;
const SIGNATURE = /^[0-9a-f]{64}$/;
const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

const malformed = (why: string) => authFailure(`The Authorization header is malformed: ${why}.`);

function components(header: string): Map<string, string> {
  const prefix = `${ALGORITHM} `;
  if (!header.startsWith(prefix)) throw malformed(`expecting ${ALGORITHM}`);
  const found = new Map<string, string>();
  for (const part of header.slice(prefix.length).split(",")) {
    const item = part.trim();
    const equals = item.indexOf("=");
    const name = equals < 0 ? item : item.slice(0, equals);
    const value = equals < 0 ? "" : item.slice(equals + 1);
    if (!["Credential", "SignedHeaders", "Signature"].includes(name)) throw malformed(`unexpected "${name}"`);
    if (found.has(name)) throw malformed(`${name} appears twice`);
    found.set(name, value);
  }
  return found;
}

/** Reads the Authorization header: undefined when there is none, AuthFailure when it is not SigV4. */
export function parseAuthorization(header: string | undefined): SigV4Header | undefined {
  if (header === undefined) return undefined;
  if (header.length > MAX_HEADER_LENGTH) throw malformed(`longer than ${MAX_HEADER_LENGTH} characters`);
  const parts = components(header);
  const credential = CREDENTIAL.exec(parts.get("Credential") ?? "");
  if (!credential)
    throw malformed("expecting Credential=<access key id>/<yyyymmdd>/<region>/<service>/aws4_request");
  const [, accessKeyId = "", date = "", region = "", service = ""] = credential;
  const signedHeaders = parts.get("SignedHeaders") ?? "";
  if (!SIGNED_HEADERS.test(signedHeaders)) throw malformed("expecting SignedHeaders=<name>;<name>…");
  const signature = parts.get("Signature") ?? "";
  if (!SIGNATURE.test(signature)) throw malformed("expecting Signature=<64 hex digits>");
  return {
    accessKeyId,
    date,
    region: region.toLowerCase(),
    service,
    scope: `${date}/${region}/${service}/aws4_request`,
    signedHeaders: signedHeaders.split(";"),
    signature,
  };
}

const sha256Hex = (data: string) => createHash("sha256").update(data, "utf8").digest("hex");
const hmac = (key: Buffer, data: string) => createHmac("sha256", key).update(data, "utf8").digest();

/** RFC 3986 percent-encoding, as SigV4 wants it (encodeURIComponent leaves !'()* alone). */
const uriEscape = (text: string) =>
  encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

function lowerCaseHeaders(headers: SignedRequest["headers"]): Map<string, string> {
  const byName = new Map<string, string>();
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) byName.set(name.toLowerCase(), Array.isArray(value) ? value.join(",") : value);
  }
  return byName;
}

const toAmzDate = (date: Date) => date.toISOString().replace(/[-:]|\.\d{3}/g, "");

/** The signing time: X-Amz-Date, else the Date header, as YYYYMMDDTHHMMSSZ and as epoch milliseconds. */
function signingTime(headers: Map<string, string>): { text: string; ms: number } {
  const amzDate = headers.get("x-amz-date");
  if (amzDate !== undefined) {
    const [, y, mo, d, h, mi, s] = (AMZ_DATE.exec(amzDate) ?? []).map(Number);
    const ms = Date.UTC(y ?? Number.NaN, (mo ?? 0) - 1, d, h, mi, s);
    if (Number.isNaN(ms) || toAmzDate(new Date(ms)) !== amzDate)
      throw authFailure("X-Amz-Date must be a date like 20240102T030405Z.");
    return { text: amzDate, ms };
  }
  const ms = Date.parse(headers.get("date") ?? "");
  if (Number.isNaN(ms)) throw authFailure("The request must carry an X-Amz-Date (or Date) header.");
  return { text: toAmzDate(new Date(ms)), ms };
}

function canonicalUri(path: string): string {
  const segments: string[] = [];
  for (const segment of path.split("/")) {
    if (segment === "" || segment === ".") continue;
    if (segment === "..") segments.pop();
    else segments.push(segment);
  }
  const trailing = segments.length > 0 && path.endsWith("/") ? "/" : "";
  // The path arrives percent-encoded and is encoded once more: SigV4 double-encodes for all services but S3.
  return `/${segments.map(uriEscape).join("/")}${trailing}`;
}

function canonicalQuery(query: string): string {
  return [...new URLSearchParams(query)]
    .map(([name, value]) => [uriEscape(name), uriEscape(value)] as const)
    .sort(([n1, v1], [n2, v2]) => (n1 === n2 ? compare(v1, v2) : compare(n1, n2)))
    .map(([name, value]) => `${name}=${value}`)
    .join("&");
}

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

function canonicalHeaders(headers: Map<string, string>, signed: readonly string[]): string {
  return signed
    .map((name) => {
      const value = headers.get(name);
      if (value === undefined) throw authFailure(`The signed header ${name} is not in the request.`);
      return `${name}:${value.trim().replace(/\s+/g, " ")}\n`;
    })
    .join("");
}

/**
 * Checks a SigV4 signature the way AWS computes it, with the caller's secret; throws RequestExpired,
 * SignatureDoesNotMatch or AuthFailure. `now` is the server's clock.
 */
export function verifySignature(req: SignedRequest, auth: SigV4Header, secret: string, now: Date): void {
  if (!auth.signedHeaders.includes("host")) throw authFailure("The host header must be signed.");
  const headers = lowerCaseHeaders(req.headers);
  const time = signingTime(headers);
  if (Math.abs(now.getTime() - time.ms) > MAX_CLOCK_SKEW_MS) throw requestExpired();
  if (auth.date !== time.text.slice(0, 8))
    throw authFailure(`The credential scope date ${auth.date} is not the request's date ${time.text}.`);
  // The body's own hash even when x-amz-content-sha256 declares one: that is the declared hash when the
  // client was honest, and a signature must never vouch for a body other than the one received.
  const payloadHash = sha256Hex(req.body);
  const canonicalRequest = [
    req.method.toUpperCase(),
    canonicalUri(req.path),
    canonicalQuery(req.query),
    canonicalHeaders(headers, auth.signedHeaders),
    auth.signedHeaders.join(";"),
    payloadHash,
  ].join("\n");
  const stringToSign = [ALGORITHM, time.text, auth.scope, sha256Hex(canonicalRequest)].join("\n");
  const signingKey = auth.scope.split("/").reduce(hmac, Buffer.from(`AWS4${secret}`, "utf8"));
  const expected = hmac(signingKey, stringToSign);
  if (!timingSafeEqual(expected, Buffer.from(auth.signature, "hex"))) throw signatureDoesNotMatch();
}
