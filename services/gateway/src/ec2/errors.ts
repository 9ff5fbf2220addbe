import { AppError, type ErrorCode, type NetworkErrorReason } from "@cloudsim/shared";

/**
 * The EC2 error codes this face answers with, and their HTTP status (EC2.md §5).
 * Statuses matter beyond taste: legacy botocore retries RequestLimitExceeded only on 503,
 * and InsufficientInstanceCapacity is retried because it is a 500.
 */
export const ec2ErrorStatus = {
  "InvalidInstanceID.NotFound": 400,
  "InvalidInstanceID.Malformed": 400,
  "InvalidAMIID.NotFound": 400,
  "InvalidAMIID.Malformed": 400,
  InvalidInstanceType: 400,
  IncorrectInstanceState: 400,
  InsufficientInstanceCapacity: 500,
  InsufficientFreeAddressesInSubnet: 400,
  InstanceLimitExceeded: 400,
  VcpuLimitExceeded: 400,
  MissingParameter: 400,
  InvalidParameterValue: 400,
  InvalidParameterCombination: 400,
  IdempotentParameterMismatch: 400,
  DryRunOperation: 412,
  UnauthorizedOperation: 403,
  AuthFailure: 401,
  SignatureDoesNotMatch: 403,
  RequestExpired: 400,
  RequestLimitExceeded: 503,
  InvalidAction: 400,
  OperationNotPermitted: 400,
  TagLimitExceeded: 400,
  "InvalidKeyPair.NotFound": 400,
  "InvalidKeyPair.Duplicate": 400,
  "InvalidKey.Format": 400,
  KeyPairLimitExceeded: 400,
  "InvalidVolume.NotFound": 400,
  "InvalidVolumeID.Malformed": 400,
  "InvalidVolume.ZoneMismatch": 400,
  IncorrectState: 400,
  VolumeInUse: 400,
  "InvalidAttachment.NotFound": 400,
  AttachmentLimitExceeded: 400,
  "InvalidVpcID.NotFound": 400,
  "InvalidVpcID.Malformed": 400,
  "InvalidVpc.Range": 400,
  "InvalidSubnetID.NotFound": 400,
  "InvalidSubnetID.Malformed": 400,
  "InvalidSubnet.Range": 400,
  "InvalidSubnet.Conflict": 400,
  "InvalidGroup.NotFound": 400,
  "InvalidGroupId.Malformed": 400,
  "InvalidGroup.Duplicate": 400,
  "InvalidGroup.Reserved": 400,
  "InvalidPermission.Duplicate": 400,
  "InvalidPermission.NotFound": 400,
  RulesPerSecurityGroupLimitExceeded: 400,
  CannotDelete: 400,
  DependencyViolation: 400,
  InvalidParameter: 400,
  "InvalidAllocationID.NotFound": 400,
  "InvalidAllocationID.Malformed": 400,
  "InvalidAssociationID.NotFound": 400,
  "InvalidAddress.NotFound": 400,
  "InvalidIPAddress.InUse": 400,
  "Resource.AlreadyAssociated": 400,
  AddressLimitExceeded: 400,
  "InvalidNetworkInterfaceID.NotFound": 400,
  "InvalidNetworkInterfaceID.Malformed": 400,
  InternalError: 500,
  Unavailable: 503,
  /** Not EC2's, but every SDK's transient code: retried, and a ClientToken makes that safe. */
  RequestTimeout: 504,
} as const satisfies Record<string, number>;

export type Ec2Code = keyof typeof ec2ErrorStatus;

/** An error as the EC2 Query API reports it: `<Code>`, `<Message>` and the HTTP status. */
export class Ec2Error extends Error {
  override readonly name = "Ec2Error";
  readonly status: number;
  constructor(
    readonly code: Ec2Code,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.status = ec2ErrorStatus[code];
  }
}

const MAX_ECHOED_VALUE = 200;

// A client's value is echoed in messages; a megabyte of it would only bloat the error.
function clip(value: string): string {
  return value.length > MAX_ECHOED_VALUE ? `${value.slice(0, MAX_ECHOED_VALUE)}…` : value;
}

export const missingParameter = (name: string) =>
  new Ec2Error("MissingParameter", `The request must contain the parameter ${name}`);

export const invalidParameterValue = (name: string, value: string, why: string) =>
  new Ec2Error("InvalidParameterValue", `Value (${clip(value)}) for parameter ${name} is invalid. ${why}`);

export const invalidParameterCombination = (message: string) =>
  new Ec2Error("InvalidParameterCombination", message);

export const instanceNotFound = (ids: readonly string[]) =>
  new Ec2Error(
    "InvalidInstanceID.NotFound",
    ids.length === 1
      ? `The instance ID '${clip(ids.join(""))}' does not exist`
      : `The instance IDs '${clip(ids.join(", "))}' do not exist`,
  );

export const instanceIdMalformed = (id: string) =>
  new Ec2Error("InvalidInstanceID.Malformed", `Invalid id: "${clip(id)}"`);

export const imageIdMalformed = (id: string) =>
  new Ec2Error("InvalidAMIID.Malformed", `Invalid id: "${clip(id)}" (expecting "ami-...")`);

export const imageNotFound = (id: string) =>
  new Ec2Error("InvalidAMIID.NotFound", `The image id '[${clip(id)}]' does not exist`);

export const incorrectInstanceState = (message: string) => new Ec2Error("IncorrectInstanceState", message);

export const insufficientInstanceCapacity = (
  message = "We currently do not have sufficient capacity in the Availability Zone you requested. Our system will be working on provisioning additional capacity.",
) => new Ec2Error("InsufficientInstanceCapacity", message);

export const insufficientFreeAddresses = (message: string) =>
  new Ec2Error("InsufficientFreeAddressesInSubnet", message);

export const instanceLimitExceeded = (limit?: number) =>
  new Ec2Error(
    "InstanceLimitExceeded",
    `You have reached the limit on the number of instances you can run concurrently${limit === undefined ? "" : ` (${limit})`}.`,
  );

export const vcpuLimitExceeded = (limit?: number) =>
  new Ec2Error(
    "VcpuLimitExceeded",
    `You have requested more vCPU capacity than your current vCPU limit${limit === undefined ? "" : ` of ${limit}`} allows.`,
  );

export const idempotentParameterMismatch = () =>
  new Ec2Error(
    "IdempotentParameterMismatch",
    "Arguments on this idempotent request are inconsistent with arguments used in previous request(s).",
  );

export const dryRunOperation = () =>
  new Ec2Error("DryRunOperation", "Request would have succeeded, but DryRun flag is set.");

export const unauthorizedOperation = () =>
  new Ec2Error("UnauthorizedOperation", "You are not authorized to perform this operation.");

export const authFailure = (message = "AWS was not able to validate the provided access credentials") =>
  new Ec2Error("AuthFailure", message);

export const missingAuth = () =>
  authFailure("The request has no Authorization header; sign it with AWS Signature Version 4.");

export const signatureDoesNotMatch = () =>
  new Ec2Error(
    "SignatureDoesNotMatch",
    "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.",
  );

export const requestExpired = () => new Ec2Error("RequestExpired", "Request has expired");

export const requestLimitExceeded = (why?: string) =>
  new Ec2Error("RequestLimitExceeded", why ? `Request limit exceeded: ${why}` : "Request limit exceeded.");

export const invalidAction = (name: string) =>
  new Ec2Error("InvalidAction", `The action ${clip(name)} is not valid for this web service.`);

export const operationNotPermitted = (message: string) => new Ec2Error("OperationNotPermitted", message);

export const tagLimitExceeded = (message: string) => new Ec2Error("TagLimitExceeded", message);

export const invalidKeyFormat = (why: string) =>
  new Ec2Error("InvalidKey.Format", `Key is not in valid OpenSSH public key format: ${why}`);

export const keyPairNotFound = (name: string) =>
  new Ec2Error("InvalidKeyPair.NotFound", `The key pair '${clip(name)}' does not exist`);

export const volumeNotFound = (ids: readonly string[]) =>
  new Ec2Error(
    "InvalidVolume.NotFound",
    ids.length === 1
      ? `The volume '${clip(ids.join(""))}' does not exist.`
      : `The volumes '${clip(ids.join(", "))}' do not exist.`,
  );

export const volumeIdMalformed = (id: string) =>
  new Ec2Error("InvalidVolumeID.Malformed", `Invalid id: "${clip(id)}" (expecting "vol-...")`);

export const internalError = () =>
  new Ec2Error("InternalError", "An internal error has occurred. Please try again later.");

export const unavailable = () =>
  new Ec2Error("Unavailable", "The service is unavailable. Please try again shortly.");

const text = (value: unknown): string | undefined => (typeof value === "string" ? value : undefined);
const count = (value: unknown): number | undefined => (typeof value === "number" ? value : undefined);

function notFoundOf(err: AppError): Ec2Error {
  const many = err.details.instance_ids;
  if (Array.isArray(many) && many.every((id) => typeof id === "string")) return instanceNotFound(many);
  const instanceId = text(err.details.instance_id) ?? text(err.details.server_id);
  if (instanceId !== undefined) return instanceNotFound([instanceId]);
  const imageId = text(err.details.image_id);
  if (imageId !== undefined) return imageNotFound(imageId);
  const keyName = text(err.details.key_name);
  if (keyName !== undefined) return keyPairNotFound(keyName);
  const volumes = err.details.volume_ids;
  if (Array.isArray(volumes) && volumes.every((id) => typeof id === "string")) return volumeNotFound(volumes);
  if (text(err.details.attachment) !== undefined)
    return new Ec2Error("InvalidAttachment.NotFound", err.message);
  return new Ec2Error("InvalidParameterValue", err.message);
}

/** A conflict by its reason: each names the EC2 code of the resource and rule it broke. */
const conflictCodes: Record<string, Ec2Code> = {
  key_pair_duplicate: "InvalidKeyPair.Duplicate",
  volume_in_use: "VolumeInUse",
  volume_state: "IncorrectState",
  volume_zone_mismatch: "InvalidVolume.ZoneMismatch",
  attachment_limit: "AttachmentLimitExceeded",
  operation_not_permitted: "OperationNotPermitted",
};

function conflictOf(err: AppError): Ec2Error {
  if (err.details.reason === "idempotent_mismatch") return idempotentParameterMismatch();
  const code = conflictCodes[text(err.details.reason) ?? ""];
  return code ? new Ec2Error(code, err.message) : incorrectInstanceState(err.message);
}

/** ipam's networking refusals by their reason, each its EC2 code (the message is EC2's already). */
const networkErrorCodes = {
  vpc_not_found: "InvalidVpcID.NotFound",
  subnet_not_found: "InvalidSubnetID.NotFound",
  group_not_found: "InvalidGroup.NotFound",
  allocation_not_found: "InvalidAllocationID.NotFound",
  association_not_found: "InvalidAssociationID.NotFound",
  address_not_found: "InvalidAddress.NotFound",
  permission_not_found: "InvalidPermission.NotFound",
  vpc_range: "InvalidVpc.Range",
  subnet_range: "InvalidSubnet.Range",
  subnet_conflict: "InvalidSubnet.Conflict",
  group_duplicate: "InvalidGroup.Duplicate",
  group_reserved: "InvalidGroup.Reserved",
  permission_duplicate: "InvalidPermission.Duplicate",
  rules_per_group: "RulesPerSecurityGroupLimitExceeded",
  dependency_violation: "DependencyViolation",
  default_vpc: "OperationNotPermitted",
  cannot_delete: "CannotDelete",
  address_in_use: "InvalidIPAddress.InUse",
  already_associated: "Resource.AlreadyAssociated",
  address_limit: "AddressLimitExceeded",
  group_vpc_mismatch: "InvalidParameter",
  group_malformed: "InvalidParameterValue",
} as const satisfies Record<NetworkErrorReason, Ec2Code>;

function networkErrorOf(err: AppError): Ec2Error | undefined {
  const reason = text(err.details.reason);
  return reason !== undefined && Object.hasOwn(networkErrorCodes, reason)
    ? new Ec2Error(networkErrorCodes[reason as NetworkErrorReason], err.message)
    : undefined;
}

/** The one place that decides which EC2 code each catalogue code becomes. */
const fromAppError = {
  VALIDATION: (err) =>
    err.details.reason === "tag_limit"
      ? tagLimitExceeded(err.message)
      : new Ec2Error("InvalidParameterValue", err.message),
  NOT_FOUND: notFoundOf,
  CONFLICT: conflictOf,
  EXHAUSTED: (err) =>
    err.details.reason === "capacity"
      ? insufficientInstanceCapacity(err.message)
      : err.details.reason === "key_pair_limit"
        ? new Ec2Error("KeyPairLimitExceeded", err.message)
        : insufficientFreeAddresses(err.message),
  QUOTA_EXCEEDED: (err) =>
    err.details.quota === "max_vcpus"
      ? vcpuLimitExceeded(count(err.details.limit))
      : instanceLimitExceeded(count(err.details.limit)),
  RATE_LIMITED: (err) => requestLimitExceeded(err.message),
  UNAUTHORIZED: () => authFailure(),
  FORBIDDEN: () => unauthorizedOperation(),
  UNAVAILABLE: () => unavailable(),
  TIMEOUT: (err) =>
    new Ec2Error("RequestTimeout", `${err.message}; retry with the same ClientToken, or describe to look`),
  TOO_LARGE: (err) => new Ec2Error("InvalidParameterValue", `${err.message} (MaxResults)`),
  INTERNAL: () => internalError(),
} satisfies Record<ErrorCode, (err: AppError) => Ec2Error>;

/** Any error as EC2 reports it; internal messages never leave (the cause keeps them for the log). */
export function ec2ErrorOf(err: unknown): Ec2Error {
  if (err instanceof Ec2Error) return err;
  const mapped =
    err instanceof AppError ? (networkErrorOf(err) ?? fromAppError[err.code](err)) : internalError();
  mapped.cause = err;
  return mapped;
}
