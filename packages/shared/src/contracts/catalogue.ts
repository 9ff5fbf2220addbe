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

/** A region's availability zones: the region and a letter, as EC2 names them. */
export const zoneLetters = ["a", "b", "c"] as const;
export const zonesOf = (region: Region) => zoneLetters.map((letter) => `${region}${letter}`);
/** Where a server goes when its request names no zone. */
export const defaultZone = (region: Region) => `${region}${zoneLetters[0]}`;

/** An AMI id: `ami-` and 8 or 17 hex digits. */
export const ImageId = z
  .string()
  .regex(/^ami-([0-9a-f]{8}|[0-9a-f]{17})$/, "image ids are ami- and 8 or 17 hex digits")
  .describe("Machine image (AMI) id");

export const Image = z
  .object({
    id: ImageId,
    name: z.string(),
    description: z.string(),
    architecture: z.enum(["x86_64", "arm64"]),
    platform: z.string().describe("e.g. Linux/UNIX"),
    created_at: z.string().describe("RFC 3339 time"),
  })
  .meta({ id: "Image" });
export type Image = z.infer<typeof Image>;

/** The machine images a server can be made from, unless IMAGES gives others (lifecycle's config). */
export const defaultImages: readonly Image[] = [
  {
    id: "ami-0c1a7f8e2d3b4a5c6",
    name: "cloudsim-linux-2026.11",
    description: "Simulated general-purpose Linux",
    architecture: "x86_64",
    platform: "Linux/UNIX",
    created_at: "2026-11-01T00:00:00.000Z",
  },
  {
    id: "ami-0d2b8e9f3a4c5b6d7",
    name: "cloudsim-debian-12",
    description: "Simulated Debian 12",
    architecture: "x86_64",
    platform: "Linux/UNIX",
    created_at: "2026-10-01T00:00:00.000Z",
  },
  {
    id: "ami-0e3c9fa04b5d6c7e8",
    name: "cloudsim-windows-2025",
    description: "Simulated Windows Server 2025",
    architecture: "x86_64",
    platform: "Windows",
    created_at: "2026-09-01T00:00:00.000Z",
  },
];
