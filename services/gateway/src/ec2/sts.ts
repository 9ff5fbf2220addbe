import { createHash } from "node:crypto";
import { DEFAULT_TENANT } from "@cloudsim/shared";
import type { Caller } from "../auth.ts";
import { invalidAction } from "./errors.ts";
import { queryXml } from "./xml.ts";

export const STS_XMLNS = "https://sts.amazonaws.com/doc/2011-06-15/";

/**
 * A tenant's 12-digit AWS account id (its instances' and groups' owner id): the first 48 bits of
 * the MD5 of its id, mod 10^12, as lifecycle and ipam compute it in SQL.
 */
export function accountIdOf(tenantId: string): string {
  const bits = BigInt(`0x${createHash("md5").update(tenantId).digest("hex").slice(0, 12)}`);
  return (bits % 1_000_000_000_000n).toString().padStart(12, "0");
}

/**
 * The one STS action the face answers, GetCallerIdentity: tools ask it for their account id
 * before comparing owner ids (Ansible's ec2_security_group does, at the same endpoint URL). The
 * admin key answers as the default tenant's account.
 */
export function stsAnswer(action: string, caller: Caller, requestId: string): string {
  if (action !== "GetCallerIdentity") throw invalidAction(action);
  const account = accountIdOf(caller.tenantId ?? DEFAULT_TENANT);
  return queryXml(action, STS_XMLNS, requestId, {
    Arn: `arn:aws:iam::${account}:user/${caller.keyId}`,
    UserId: caller.keyId,
    Account: account,
  });
}
