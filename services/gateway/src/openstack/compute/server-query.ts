import { InstanceType, type InstanceTypeName, type Server } from "@cloudsim/shared";
import type { FastifyRequest } from "fastify";
import { osRequestId, queryParam } from "../context.ts";
import { badRequest } from "../errors.ts";
import { catalogueImage } from "../images.ts";
import { statesOfStatus } from "../states.ts";
import { type ComputeEndpoint, minorOf } from "./context.ts";

/** What GET /servers asks for: what lifecycle.list filters itself, and the filters applied here. */
export interface ServerQuery {
  state?: Server["state"];
  type?: InstanceTypeName;
  filters: ((server: Server) => boolean)[];
}

/** One atom of a name pattern: what character it takes, and whether it may repeat or be left out. */
interface Step {
  takes: (c: string) => boolean;
  repeats: boolean;
  optional: boolean;
}

const escapes: Record<string, (c: string) => boolean> = {
  d: (c) => c >= "0" && c <= "9",
  w: (c) => /^[A-Za-z0-9_]$/.test(c),
  s: (c) => /^\s$/.test(c),
};
/** What an escaped character takes: \d, \w, \s, or the character itself. */
const escaped = (c: string) => escapes[c] ?? ((x: string) => x === c);

/** A class `[...]` whose `[` is at `at`: what it takes and where it ends; undefined when unterminated. */
function classAt(pattern: string, at: number): { takes: (c: string) => boolean; end: number } | undefined {
  let i = at + 1;
  const negated = pattern[i] === "^";
  if (negated) i++;
  const parts: ((c: string) => boolean)[] = [];
  for (let first = true; i < pattern.length && (first || pattern[i] !== "]"); first = false) {
    const c = pattern[i] ?? "";
    if (c === "\\") {
      parts.push(escaped(pattern[i + 1] ?? ""));
      i += 2;
    } else if (pattern[i + 1] === "-" && pattern[i + 2] !== undefined && pattern[i + 2] !== "]") {
      const last = pattern[i + 2] ?? "";
      parts.push((x) => x >= c && x <= last);
      i += 3;
    } else {
      parts.push((x) => x === c);
      i++;
    }
  }
  if (i >= pattern.length) return undefined;
  return { takes: (c) => parts.some((p) => p(c)) !== negated, end: i + 1 };
}

/** The atom at `at` (a literal, `.`, an escape or a class) and where it ends; undefined for anything else. */
function atomAt(pattern: string, at: number): { takes: (c: string) => boolean; end: number } | undefined {
  const c = pattern[at] ?? "";
  if ("()|{}*+?^$".includes(c)) return undefined;
  if (c === "[") return classAt(pattern, at);
  if (c === "\\")
    return at + 1 < pattern.length ? { takes: escaped(pattern[at + 1] ?? ""), end: at + 2 } : undefined;
  if (c === ".") return { takes: () => true, end: at + 1 };
  return { takes: (x) => x === c, end: at + 1 };
}

/**
 * The steps of a pattern of literals, `.`, escapes and classes, each optionally followed by `*`,
 * `+` or `?`; undefined for anything else (groups, alternation, counts), which is taken literally.
 */
function stepsOf(pattern: string): Step[] | undefined {
  const steps: Step[] = [];
  for (let at = 0; at < pattern.length; ) {
    const atom = atomAt(pattern, at);
    if (!atom) return undefined;
    const either = (c: string) => atom.takes(c) || atom.takes(c.toLowerCase()) || atom.takes(c.toUpperCase());
    const quantifier = pattern[atom.end];
    if (quantifier === "+") steps.push({ takes: either, repeats: false, optional: false });
    steps.push({
      takes: either,
      repeats: quantifier === "*" || quantifier === "+",
      optional: quantifier === "*" || quantifier === "+" || quantifier === "?",
    });
    at = quantifier !== undefined && "*+?".includes(quantifier) ? atom.end + 1 : atom.end;
  }
  return steps;
}

/** Marks the steps reachable by leaving out optional ones. */
function close(states: boolean[], steps: Step[]) {
  steps.forEach((step, i) => {
    if (states[i] && step.optional) states[i + 1] = true;
  });
  return states;
}

/** The steps reached from `states` by taking `c`; unless anchored, a match may also begin after it. */
function stepOn(states: boolean[], steps: Step[], c: string, start: boolean) {
  const next = [!start];
  steps.forEach((step, i) => {
    if (states[i] && step.takes(c)) next[step.repeats ? i : i + 1] = true;
  });
  return close(next, steps);
}

/**
 * Whether the steps match in `name` (from its start and to its end when anchored): a walk over the
 * set of steps reached so far, one character at a time, so no pattern takes longer than
 * name × pattern (a client's regex is never run).
 */
function walk(steps: Step[], name: string, start: boolean, end: boolean): boolean {
  let states = close([true], steps);
  for (const c of name) {
    if (!end && states[steps.length]) return true;
    states = stepOn(states, steps, c, start);
  }
  return states[steps.length] === true;
}

/** The pattern taken literally: a substring, optionally anchored by ^ and $. */
function literalMatcher(core: string, start: boolean, end: boolean): (name: string) => boolean {
  const lower = core.toLowerCase();
  return (name) => {
    const n = name.toLowerCase();
    if (start && end) return n === lower;
    if (start) return n.startsWith(lower);
    if (end) return n.endsWith(lower);
    return n.includes(lower);
  };
}

/**
 * Nova's name filter, a regular expression matched anywhere in the name, case-insensitively: the
 * common part of one (literals, `.`, `\d`-style escapes, classes, `*`, `+`, `?`, `^`, `$`);
 * any other pattern is taken literally.
 */
export function nameMatcher(pattern: string): (name: string) => boolean {
  const start = pattern.startsWith("^");
  const end = pattern.endsWith("$") && !pattern.endsWith("\\$") && pattern.length > (start ? 1 : 0);
  const core = pattern.slice(start ? 1 : 0, end ? -1 : undefined);
  const steps = stepsOf(core);
  if (!steps) return literalMatcher(core, start, end);
  return (name) => walk(steps, name, start, end);
}

/** `status`: one state lifecycle filters, or several filtered here; false when none can match. */
function addStatus(request: FastifyRequest, query: ServerQuery): boolean {
  const status = queryParam(request, "status");
  if (status === undefined) return true;
  const wanted = statesOfStatus(status);
  if (!wanted || wanted.length === 0) {
    // Before 2.38 Nova answered an unknown status with an empty list.
    if (minorOf(request) >= 38) throw badRequest("Invalid status value");
    return false;
  }
  if (wanted.length === 1) query.state = wanted[0];
  else query.filters.push((s) => wanted.includes(s.state));
  return true;
}

/** `flavor`: an instance type; false when it names none. */
function addFlavor(request: FastifyRequest, query: ServerQuery): boolean {
  const flavor = queryParam(request, "flavor");
  if (flavor === undefined) return true;
  const type = InstanceType.safeParse(flavor);
  query.type = type.data;
  return type.success;
}

/** `image`: either of an image's ids; false when it names none. */
async function addImage(endpoint: ComputeEndpoint, request: FastifyRequest, query: ServerQuery) {
  const ref = queryParam(request, "image");
  if (ref === undefined) return true;
  const image = await catalogueImage(endpoint.bus, osRequestId(request), ref);
  if (image) query.filters.push((s) => s.image === image.id);
  return image !== undefined;
}

/** ISO 8601 as Nova takes it (a date, optionally a time and a zone); Date.parse alone takes far more. */
const ISO_8601 = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/i;

function addChangesSince(request: FastifyRequest, query: ServerQuery) {
  const since = queryParam(request, "changes-since");
  if (since === undefined) return;
  const at = ISO_8601.test(since) ? Date.parse(since) : Number.NaN;
  if (Number.isNaN(at))
    throw badRequest(`Invalid input for query parameters changes-since. Value: ${since}.`);
  query.filters.push((s) => Date.parse(s.updated_at) >= at);
}

/**
 * The request's server filters (name, status, flavor, image, changes-since, ip), read in Nova's
 * order; undefined when no server can pass them, so the answer is an empty list.
 */
export async function serverQueryOf(
  endpoint: ComputeEndpoint,
  request: FastifyRequest,
): Promise<ServerQuery | undefined> {
  const query: ServerQuery = { filters: [] };
  const name = queryParam(request, "name");
  if (name !== undefined) {
    const matches = nameMatcher(name.slice(0, 255));
    query.filters.push((s) => matches(s.name));
  }
  if (!addStatus(request, query) || !addFlavor(request, query)) return undefined;
  if (!(await addImage(endpoint, request, query))) return undefined;
  addChangesSince(request, query);
  const ip = queryParam(request, "ip");
  if (ip !== undefined) query.filters.push((s) => (s.ip_address ?? "").includes(ip));
  return query;
}
