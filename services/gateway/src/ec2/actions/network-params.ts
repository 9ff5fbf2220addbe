import { MAX_NETWORK_IDS, MAX_NETWORK_PAGE } from "@cloudsim/shared";
import type { Ec2Request } from "../context.ts";
import { type Ec2Code, Ec2Error, invalidParameterValue } from "../errors.ts";
import { checkFilterNames } from "../filters.ts";
import { type Ec2Params, type Filter, filters, int, list, str, structs, tags } from "../query.ts";

/** The id kinds of the networking resources: their prefix, and the code a malformed one is. */
const idKinds = {
  vpc: { prefix: "vpc", malformed: "InvalidVpcID.Malformed" },
  subnet: { prefix: "subnet", malformed: "InvalidSubnetID.Malformed" },
  group: { prefix: "sg", malformed: "InvalidGroupId.Malformed" },
  allocation: { prefix: "eipalloc", malformed: "InvalidAllocationID.Malformed" },
  association: { prefix: "eipassoc", malformed: "InvalidParameterValue" },
  interface: { prefix: "eni", malformed: "InvalidNetworkInterfaceID.Malformed" },
} as const satisfies Record<string, { prefix: string; malformed: Ec2Code }>;
export type IdKind = keyof typeof idKinds;

/** An id of `kind`: its prefix and 8 or 17 hex digits, as EC2 makes them; anything else is malformed. */
export function checkId(kind: IdKind, id: string): string {
  const { prefix, malformed } = idKinds[kind];
  if (!new RegExp(`^${prefix}-([0-9a-f]{8}|[0-9a-f]{17})$`).test(id))
    throw new Ec2Error(malformed, `Invalid id: "${id.slice(0, 100)}" (expecting "${prefix}-...")`);
  return id;
}

export const idParam = (params: Ec2Params, name: string, kind: IdKind) =>
  checkId(kind, str(params, name, { required: true, max: 64 }));

export const idList = (params: Ec2Params, prefix: string, kind: IdKind) =>
  list(params, prefix, { max: MAX_NETWORK_IDS }).map((id) => checkId(kind, id));

/** What a networking request sees: the caller's resources (the admin key: every tenant's) in its region. */
export const networkScope = (request: Ec2Request) => ({ tenant_id: request.scope, region: request.region });
/** Who owns what a networking request makes. */
export const networkOwner = (request: Ec2Request) => ({ tenant_id: request.owner, region: request.region });

/** A describe's filters (known names only, and `tag:<key>`), MaxResults (5 to 1000) and NextToken. */
export function describeParams(params: Ec2Params, known: readonly string[]) {
  const given: Filter[] = filters(params);
  checkFilterNames(given, known, true);
  return {
    filters: given,
    limit: int(params, "MaxResults", { min: 5, max: MAX_NETWORK_PAGE }) ?? MAX_NETWORK_PAGE,
    cursor: str(params, "NextToken", { max: 64 }),
  };
}

/** The tags of TagSpecification.N whose ResourceType is `type`; another type is refused. */
export function specTags(params: Ec2Params, type: string): Record<string, string> {
  const tagged: Record<string, string> = {};
  for (const spec of structs(params, "TagSpecification", { max: 10 })) {
    const given = str(spec, "ResourceType", { required: true });
    if (given !== type)
      throw invalidParameterValue(`${spec.scope}.ResourceType`, given, `Only ${type} can be tagged here.`);
    for (const tag of tags(spec, "Tag")) tagged[tag.key] = tag.value ?? "";
  }
  return tagged;
}

/** `Attribute.Value` as a boolean (ModifyVpcAttribute, ModifySubnetAttribute); undefined when absent. */
export function booleanValue(params: Ec2Params, name: string): boolean | undefined {
  const value = params.get(`${name}.Value`);
  if (value === undefined) return undefined;
  if (value !== "true" && value !== "false")
    throw invalidParameterValue(`${name}.Value`, value, "Expecting true or false.");
  return value === "true";
}
