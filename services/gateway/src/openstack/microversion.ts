import { badRequest, OsError } from "./errors.ts";

/** The compute microversions this face renders: 2.1 up to this minor (NOVA.md §2). */
export const MIN_MINOR = 1;
export const MAX_MINOR = 47;
export const MIN_VERSION = `2.${MIN_MINOR}`;
export const MAX_VERSION = `2.${MAX_MINOR}`;

type Headers = Record<string, string | string[] | undefined>;

const first = (value: string | string[] | undefined) => (Array.isArray(value) ? value.join(",") : value);

/** The compute version asked for in `OpenStack-API-Version: compute X` (several services may be listed). */
function fromOpenStackHeader(value: string): string | undefined {
  for (const part of value.split(",")) {
    const [service, version, ...rest] = part.trim().split(/\s+/);
    if (service?.toLowerCase() === "compute" && version !== undefined && rest.length === 0) return version;
  }
  return undefined;
}

/**
 * The minor version (2.X) of a compute request, as Nova reads it: `OpenStack-API-Version`, else
 * `X-OpenStack-Nova-API-Version`; none is 2.1, `latest` the maximum. A malformed version is 400,
 * one outside the range 406, both with Nova's messages.
 */
export function microversionOf(headers: Headers, maxMinor = MAX_MINOR): number {
  const fromNew = first(headers["openstack-api-version"]);
  const asked =
    (fromNew === undefined ? undefined : fromOpenStackHeader(fromNew)) ??
    first(headers["x-openstack-nova-api-version"])?.trim();
  if (asked === undefined || asked === "") return MIN_MINOR;
  if (asked.toLowerCase() === "latest") return maxMinor;
  const match = /^([1-9]\d{0,2})\.(0|[1-9]\d{0,3})$/.exec(asked);
  if (!match)
    throw badRequest(
      `API Version String ${asked.slice(0, 40)} is of invalid format. Must be of format MajorNum.MinorNum.`,
    );
  const major = Number(match[1]);
  const minor = Number(match[2]);
  if (major !== 2 || minor < MIN_MINOR || minor > maxMinor)
    throw new OsError(
      406,
      `Version ${major}.${minor} is not supported by the API. Minimum is ${MIN_VERSION} and maximum is 2.${maxMinor}.`,
    );
  return minor;
}

/** The headers a compute answer carries at minor version `minor`. */
export function microversionHeaders(minor: number): Record<string, string> {
  return {
    "openstack-api-version": `compute 2.${minor}`,
    "x-openstack-nova-api-version": `2.${minor}`,
    vary: "OpenStack-API-Version, X-OpenStack-Nova-API-Version",
  };
}
