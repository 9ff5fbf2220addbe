import { randomBytes } from "node:crypto";
import { AppError, type NetworkErrorReason } from "@cloudsim/shared";
import { type Cidr, formatCidr, overlaps, parseCidr, within } from "@cloudsim/shared/cidr";

/** The sizes EC2 allows a VPC's and a subnet's IPv4 block. */
export const NETWORK_MIN_PREFIX = 16;
export const NETWORK_MAX_PREFIX = 28;

/** A refusal of ipam's networking, with the reason the EC2 face names it by. */
export const networkError = (
  code: "VALIDATION" | "NOT_FOUND" | "CONFLICT" | "EXHAUSTED",
  reason: NetworkErrorReason,
  message: string,
  details: Record<string, unknown> = {},
) => new AppError(code, message, { reason, ...details });

/** A new resource's id: its prefix and 17 hex digits, as EC2 makes them. */
export const resourceId = (prefix: string) => `${prefix}-${randomBytes(9).toString("hex").slice(0, 17)}`;

function blockOf(text: string): Cidr | undefined {
  try {
    return parseCidr(text);
  } catch {
    return undefined;
  }
}

const sized = (cidr: Cidr | undefined): cidr is Cidr =>
  cidr !== undefined && cidr.prefix >= NETWORK_MIN_PREFIX && cidr.prefix <= NETWORK_MAX_PREFIX;

/** The block of a VPC made without one (a Neutron network, which has no range): every IPv4 address. */
export const OPEN_RANGE = "0.0.0.0/0";

/** A stored VPC's block, the open range included (which parseCidr, for pools, refuses). */
export const vpcRangeOf = (text: string): Cidr =>
  text === OPEN_RANGE ? { network: 0, prefix: 0 } : parseCidr(text);

/** A VPC's block: a network address, /16 to /28. */
export function vpcBlock(text: string): Cidr {
  const cidr = blockOf(text);
  if (!sized(cidr))
    throw networkError("VALIDATION", "vpc_range", `The CIDR '${text}' is invalid.`, { cidr_block: text });
  return cidr;
}

/** A subnet's block: /16 to /28, inside its VPC's, overlapping none of its siblings'. */
export function subnetBlock(text: string, vpc: Cidr, siblings: readonly string[]): Cidr {
  const cidr = blockOf(text);
  if (!sized(cidr) || !within(cidr, vpc))
    throw networkError("VALIDATION", "subnet_range", `The CIDR '${text}' is invalid.`, { cidr_block: text });
  if (siblings.some((sibling) => overlaps(cidr, parseCidr(sibling))))
    throw networkError(
      "CONFLICT",
      "subnet_conflict",
      `The CIDR '${formatCidr(cidr)}' conflicts with another subnet`,
      {
        cidr_block: text,
      },
    );
  return cidr;
}
