import { z } from "zod";

/**
 * The regions a server can be placed in. IPAM holds a pool for each (IPAM_POOLS may move
 * their CIDRs); a region outside this list is a validation error at the gateway.
 */
export const regions = ["us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-1"] as const;
export const Region = z.enum(regions).describe("Region the server runs in");
export type Region = z.infer<typeof Region>;

/** Instance types with their size; billing adds a rate per type. */
export const instanceTypes = {
  "t2.nano": { vcpus: 1, memory_mib: 512 },
  "t2.micro": { vcpus: 1, memory_mib: 1024 },
  "t2.small": { vcpus: 1, memory_mib: 2048 },
  "t2.medium": { vcpus: 2, memory_mib: 4096 },
  "t2.large": { vcpus: 2, memory_mib: 8192 },
  "t2.xlarge": { vcpus: 4, memory_mib: 16384 },
  "m5.large": { vcpus: 2, memory_mib: 8192 },
  "m5.xlarge": { vcpus: 4, memory_mib: 16384 },
  "c5.large": { vcpus: 2, memory_mib: 4096 },
} as const satisfies Record<string, { vcpus: number; memory_mib: number }>;

export type InstanceTypeName = keyof typeof instanceTypes;
export const instanceTypeNames = Object.keys(instanceTypes) as [InstanceTypeName, ...InstanceTypeName[]];
export const InstanceType = z.enum(instanceTypeNames).describe("Instance type, which sets vCPUs and memory");

export function instanceSpec(type: InstanceTypeName) {
  return instanceTypes[type];
}

/**
 * Price per minute of billable time for each type, as an exact decimal string. `null` is
 * BILLING_RATE (0.01 by default), the original single rate, which t2.micro keeps.
 */
export const instanceRates: Record<InstanceTypeName, string | null> = {
  "t2.nano": "0.005",
  "t2.micro": null,
  "t2.small": "0.02",
  "t2.medium": "0.04",
  "t2.large": "0.08",
  "t2.xlarge": "0.16",
  "m5.large": "0.09",
  "m5.xlarge": "0.18",
  "c5.large": "0.085",
};
