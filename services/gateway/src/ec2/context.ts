import type { Bus, Clock, Region } from "@cloudsim/shared";
import type { GatewayConfig } from "../config.ts";
import { dryRunOperation } from "./errors.ts";
import { bool, type Ec2Params } from "./query.ts";
import type { XmlValue } from "./xml.ts";

export type Ec2Config = Pick<GatewayConfig, "EC2_TERMINATED_RETENTION" | "EC2_STATUS_CHECK_DELAY">;

/** One EC2 request, once authenticated: who, where, and its parameters. */
export interface Ec2Request {
  params: Ec2Params;
  bus: Bus;
  /** The time of simulated things (instances' times): the gateway's clock. */
  clock: Clock;
  config: Ec2Config;
  requestId: string;
  /** The host the client called, as it named it (DescribeRegions answers it as each endpoint). */
  host: string;
  /** The region the request was signed for. */
  region: Region;
  /** The tenant whose instances it sees (`*`: the admin key, every tenant's). */
  scope: string;
  /** The tenant that owns what it launches. */
  owner: string;
}

/** An action: its answer's members, below `<{Action}Response>`. */
export type Ec2Action = (request: Ec2Request) => Promise<Record<string, XmlValue>>;

/**
 * Stops a DryRun once the request has been checked: DryRunOperation (412) says it would have
 * succeeded, and nothing was done.
 */
export function unlessDryRun(request: Ec2Request): void {
  if (bool(request.params, "DryRun")) throw dryRunOperation();
}

/** What an EC2 request sees of the instances: its scope, its region, and terminated ones for a while. */
export function visibility(request: Ec2Request) {
  return {
    tenant_id: request.scope,
    region: request.region,
    visible_after: new Date(request.clock.now() - request.config.EC2_TERMINATED_RETENTION).toISOString(),
  };
}

export const requestContext = (request: Ec2Request) => ({ requestId: request.requestId });
