import { Ec2Error, invalidParameterValue, missingParameter } from "./errors.ts";

/** The form parameters of one EC2 Query request, by name (`Action`, `InstanceId.1`, `Filter.2.Value.1`, …). */
export type Ec2Params = Map<string, string>;

/** The members of one struct of a list (`Filter.3` → `Name`, `Value.1`, …); `scope` names it in errors. */
export class StructParams extends Map<string, string> {
  constructor(readonly scope: string) {
    super();
  }
}

const MAX_PARAMETERS = 10_000;

/** Reads an `application/x-www-form-urlencoded` body; a name may appear once. */
export function parseForm(body: string): Ec2Params {
  const params: Ec2Params = new Map();
  for (const [name, value] of new URLSearchParams(body)) {
    if (params.has(name)) throw invalidParameterValue(name, value, "The parameter appears more than once.");
    if (params.size === MAX_PARAMETERS)
      throw new Ec2Error("InvalidParameterValue", `The request has more than ${MAX_PARAMETERS} parameters.`);
    params.set(name, value);
  }
  return params;
}

/** The full name of a parameter, as the client sent it, for error messages. */
function fullName(p: Ec2Params, name: string): string {
  return p instanceof StructParams ? `${p.scope}.${name}` : name;
}

export function str(p: Ec2Params, name: string, opts: { required: true; max?: number }): string;
export function str(
  p: Ec2Params,
  name: string,
  opts?: { required?: boolean; max?: number },
): string | undefined;
export function str(p: Ec2Params, name: string, opts: { required?: boolean; max?: number } = {}) {
  const value = p.get(name);
  // EC2 treats `ImageId=` like an absent ImageId.
  if (opts.required && !value) throw missingParameter(fullName(p, name));
  if (value !== undefined && opts.max !== undefined && value.length > opts.max)
    throw invalidParameterValue(fullName(p, name), value, `It must be at most ${opts.max} characters long.`);
  return value;
}

interface IntOptions {
  min: number;
  max: number;
  required?: boolean;
}

export function int(p: Ec2Params, name: string, opts: IntOptions & { required: true }): number;
export function int(p: Ec2Params, name: string, opts: IntOptions): number | undefined;
export function int(p: Ec2Params, name: string, opts: IntOptions) {
  const value = str(p, name, { required: opts.required ?? false });
  if (value === undefined) return undefined;
  const n = /^-?\d{1,16}$/.test(value) ? Number(value) : Number.NaN;
  if (!(n >= opts.min && n <= opts.max))
    throw invalidParameterValue(
      fullName(p, name),
      value,
      `Expecting an integer from ${opts.min} to ${opts.max}.`,
    );
  return n;
}

export function bool(p: Ec2Params, name: string): boolean | undefined {
  const value = p.get(name);
  if (value === undefined) return undefined;
  if (value !== "true" && value !== "false")
    throw invalidParameterValue(fullName(p, name), value, "Expecting true or false.");
  return value === "true";
}

/**
 * The entries of a flattened list, by index: `Prefix.N` (or `Prefix.N.Member` when `members`), with N
 * from 1 to the count and no gap, at most `max` of them.
 */
function indexed(
  p: Ec2Params,
  prefix: string,
  max: number,
  members: boolean,
): Map<number, [string, string][]> {
  const byIndex = new Map<number, [string, string][]>();
  const start = `${prefix}.`;
  for (const [name, value] of p) {
    if (!name.startsWith(start)) continue;
    const rest = name.slice(start.length);
    const dot = rest.indexOf(".");
    // `Prefix.N` is a list's, `Prefix.N.Member` a struct's: each reader skips the other's.
    const isMember = dot > 0;
    if (isMember !== members) continue;
    const index = members ? rest.slice(0, dot) : rest;
    if (!/^[1-9]\d*$/.test(index))
      throw invalidParameterValue(fullName(p, name), value, `${index} is not a list index from 1.`);
    const n = Number(index);
    if (n > max)
      throw invalidParameterValue(
        fullName(p, name),
        value,
        `${fullName(p, prefix)} takes at most ${max} values.`,
      );
    const entries = byIndex.get(n) ?? [];
    entries.push([members ? rest.slice(dot + 1) : "", value]);
    byIndex.set(n, entries);
  }
  for (let n = 1; n <= byIndex.size; n++) {
    if (!byIndex.has(n)) throw missingParameter(fullName(p, `${prefix}.${n}`));
  }
  return byIndex;
}

function inIndexOrder<T>(byIndex: Map<number, T>): T[] {
  return [...byIndex.keys()].sort((a, b) => a - b).map((n) => byIndex.get(n) as T);
}

/** The values of `Prefix.1`, `Prefix.2`, … in index order; an absent list is empty. */
export function list(p: Ec2Params, prefix: string, opts: { max: number }): string[] {
  return inIndexOrder(indexed(p, prefix, opts.max, false))
    .flat()
    .map(([, value]) => value);
}

/** The structs of `Prefix.N.Member…`, each with its members by their name below `Prefix.N`. */
export function structs(p: Ec2Params, prefix: string, opts: { max: number }): StructParams[] {
  const byIndex = indexed(p, prefix, opts.max, true);
  return inIndexOrder(byIndex).map((entries, i) => {
    const struct = new StructParams(fullName(p, `${prefix}.${i + 1}`));
    for (const [member, value] of entries) struct.set(member, value);
    return struct;
  });
}

export interface Filter {
  name: string;
  values: string[];
}

/** `Filter.N.Name` with its `Filter.N.Value.M`. */
export function filters(p: Ec2Params, opts = { maxFilters: 50, maxValues: 200 }): Filter[] {
  return structs(p, "Filter", { max: opts.maxFilters }).map((filter) => ({
    name: str(filter, "Name", { required: true }),
    values: list(filter, "Value", { max: opts.maxValues }),
  }));
}

export interface Tag {
  key: string;
  /** Absent differs from "": DeleteTags with `Value=` deletes only a tag whose value is empty (EC2.md §3.7). */
  value: string | undefined;
}

/** `Prefix.N.Key` with its optional `Prefix.N.Value`; the limits are EC2's (key 127, value 256 characters). */
export function tags(p: Ec2Params, prefix: string, opts = { max: 50 }): Tag[] {
  return structs(p, prefix, opts).map((tag) => ({
    key: str(tag, "Key", { required: true, max: 127 }),
    value: str(tag, "Value", { max: 256 }),
  }));
}
