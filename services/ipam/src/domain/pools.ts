import { type Region, regions } from "@cloudsim/shared";
import { type Cidr, formatCidr, overlaps, parseCidr } from "@cloudsim/shared/cidr";

export interface PoolSpec {
  region: Region;
  cidr: Cidr;
}

/** One /16 per region unless IPAM_POOLS says otherwise. */
export const defaultPools: Record<Region, string> = {
  "us-east-1": "10.0.0.0/16",
  "us-west-2": "10.1.0.0/16",
  "eu-west-1": "10.2.0.0/16",
  "eu-central-1": "10.3.0.0/16",
  "ap-southeast-1": "10.4.0.0/16",
};

/** The pool Elastic IPs come from unless IPAM_PUBLIC_POOL says otherwise (TEST-NET-2, RFC 5737). */
export const DEFAULT_PUBLIC_POOL = "198.51.100.0/24";

/**
 * Reads IPAM_POOLS ("us-east-1=10.0.0.0/16,eu-west-1=10.1.0.0/16") over the defaults.
 * Throws with every problem found: unknown regions, bad CIDRs, pools that overlap.
 */
export function parsePools(text: string): PoolSpec[] {
  const chosen: Record<string, string> = { ...defaultPools };
  const problems: string[] = [];
  for (const entry of text
    .split(",")
    .map((e) => e.trim())
    .filter(Boolean)) {
    const [region, cidr, ...rest] = entry.split("=").map((p) => p.trim());
    if (!region || !cidr || rest.length > 0) problems.push(`"${entry}" is not region=cidr`);
    else if (!(regions as readonly string[]).includes(region))
      problems.push(`unknown region "${region}" (known: ${regions.join(", ")})`);
    else chosen[region] = cidr;
  }
  const pools: PoolSpec[] = [];
  for (const region of regions) {
    try {
      pools.push({ region, cidr: parseCidr(chosen[region] ?? "") });
    } catch (err) {
      problems.push(`${region}: ${(err as Error).message}`);
    }
  }
  for (const [i, a] of pools.entries()) {
    for (const b of pools.slice(i + 1)) {
      if (overlaps(a.cidr, b.cidr))
        problems.push(`${a.region} ${formatCidr(a.cidr)} overlaps ${b.region} ${formatCidr(b.cidr)}`);
    }
  }
  if (problems.length > 0) throw new Error(problems.join("; "));
  return pools;
}
