import { elasticIps, type Instance, MAX_NETWORK_IDS } from "@cloudsim/shared";
import { type Ec2Request, requestContext } from "../context.ts";
import type { PublicAddresses } from "../network-interfaces.ts";
import { networkScope } from "./network-params.ts";

/** The Elastic IPs of these instances (a describe page's), by server id: one ipam request per thousand. */
export async function publicAddressesOf(
  request: Ec2Request,
  instances: readonly Instance[],
): Promise<PublicAddresses> {
  const ids = instances.map((instance) => instance.id);
  const found = new Map<string, { public_ip: string; allocation_id: string; association_id: string }>();
  for (let i = 0; i < ids.length; i += MAX_NETWORK_IDS) {
    const { items } = await request.bus.request(
      elasticIps.ofServers,
      { ...networkScope(request), server_ids: ids.slice(i, i + MAX_NETWORK_IDS) },
      requestContext(request),
    );
    for (const { server_id, ...address } of items) found.set(server_id, address);
  }
  return found;
}
