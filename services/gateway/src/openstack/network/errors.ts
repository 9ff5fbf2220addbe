import { AppError, type NetworkErrorReason } from "@cloudsim/shared";
import { OsError, osErrorOf } from "../errors.ts";

/** A Neutron error: its status, and the exception name Neutron puts in `type`. */
export class NeutronError extends OsError {
  constructor(
    status: number,
    readonly type: string,
    message: string,
  ) {
    super(status, message.slice(0, 500));
  }
}

/** Neutron's exception names by status, for errors that did not name one. */
const typesByStatus: Record<number, string> = {
  400: "BadRequest",
  401: "NotAuthorized",
  403: "PolicyNotAuthorized",
  404: "NotFound",
  405: "MethodNotAllowed",
  409: "Conflict",
  413: "OverQuota",
  429: "OverQuota",
  503: "ServiceUnavailable",
};

export const neutronBadRequest = (message: string) => new NeutronError(400, "BadRequest", message);
export const networkNotFound = (id: string) =>
  new NeutronError(404, "NetworkNotFound", `Network ${id} could not be found.`);
export const portNotFound = (id: string) =>
  new NeutronError(404, "PortNotFound", `Port ${id} could not be found.`);

/** What each of ipam's refusals is in Neutron: status, exception name and message. */
const byReason: Partial<Record<NetworkErrorReason, (err: AppError) => NeutronError>> = {
  vpc_not_found: (err) => networkNotFound(idIn(err, "vpc_ids")),
  subnet_not_found: (err) =>
    new NeutronError(404, "SubnetNotFound", `Subnet ${idIn(err, "subnet_ids")} could not be found.`),
  group_not_found: (err) =>
    new NeutronError(404, "SecurityGroupNotFound", `Security group ${idIn(err, "group")} does not exist`),
  allocation_not_found: (err) =>
    new NeutronError(
      404,
      "FloatingIPNotFound",
      `Floating IP ${idIn(err, "allocation_id")} could not be found`,
    ),
  permission_not_found: () =>
    new NeutronError(404, "SecurityGroupRuleNotFound", "Security group rule could not be found."),
  subnet_range: (err) => new NeutronError(400, "InvalidInput", `Invalid input for operation: ${err.message}`),
  subnet_conflict: (err) =>
    new NeutronError(400, "InvalidInput", `Invalid input for operation: ${err.message}`),
  group_duplicate: (err) => new NeutronError(409, "Conflict", err.message),
  group_reserved: (err) => new NeutronError(409, "SecurityGroupCannotRemoveDefault", err.message),
  permission_duplicate: (err) => new NeutronError(409, "SecurityGroupRuleExists", err.message),
  rules_per_group: (err) => new NeutronError(409, "OverQuota", err.message),
  dependency_violation: (err) => new NeutronError(409, "InUse", err.message),
  default_vpc: (err) => new NeutronError(409, "Conflict", err.message),
  cannot_delete: (err) => new NeutronError(409, "InUse", err.message),
  address_in_use: (err) => new NeutronError(409, "FloatingIPPortAlreadyAssociated", err.message),
  already_associated: (err) => new NeutronError(409, "FloatingIPPortAlreadyAssociated", err.message),
  address_limit: (err) => new NeutronError(409, "OverQuota", err.message),
  group_vpc_mismatch: (err) => new NeutronError(400, "BadRequest", err.message),
  group_malformed: (err) => new NeutronError(400, "BadRequest", err.message),
};

/** The (first) id a refusal names under `key`, or what it says. */
function idIn(err: AppError, key: string): string {
  const named = err.details[key];
  const id = Array.isArray(named) ? named[0] : named;
  return typeof id === "string" ? id : err.message;
}

/** Any error as Neutron answers it: ipam's refusals by their reason, the rest as the face maps them. */
export function neutronErrorOf(err: unknown): OsError {
  if (err instanceof AppError) {
    const reason = err.details.reason as NetworkErrorReason | undefined;
    const mapped = reason && byReason[reason]?.(err);
    if (mapped) {
      mapped.cause = err;
      return mapped;
    }
  }
  return osErrorOf(err);
}

/** Neutron's error body: `{"NeutronError":{"type","message","detail"}}`. */
export function neutronFault(error: OsError) {
  const type =
    error instanceof NeutronError ? error.type : (typesByStatus[error.status] ?? "HTTPInternalServerError");
  return { NeutronError: { type, message: error.message, detail: "" } };
}
