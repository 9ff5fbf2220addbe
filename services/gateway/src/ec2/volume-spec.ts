import { type VolumeSpec, VolumeType, type VolumeType as VolumeTypeName } from "@cloudsim/shared";
import { Ec2Error, invalidParameterCombination, invalidParameterValue, missingParameter } from "./errors.ts";

/** What a request asks of a volume, each member under the parameter name it came as. */
export interface VolumeRequest {
  size?: number | undefined;
  type?: string | undefined;
  iops?: number | undefined;
  throughput?: number | undefined;
  encrypted?: boolean | undefined;
}

/** The parameter names a volume's members have in one action (CreateVolume's, or a block device's). */
export interface VolumeParameterNames {
  size: string;
  type: string;
  iops: string;
  throughput: string;
}

/** EBS's size range of each type, in GiB. */
const sizes: Record<VolumeTypeName, [number, number]> = {
  gp2: [1, 16_384],
  gp3: [1, 16_384],
  io1: [4, 16_384],
  io2: [4, 16_384],
  st1: [125, 16_384],
  sc1: [125, 16_384],
  standard: [1, 1024],
};

/** Provisioned IOPS: the range, and the most per GiB, of the types that take them. */
const provisioned: Partial<
  Record<VolumeTypeName, { min: number; max: number; perGib: number; required: boolean }>
> = {
  gp3: { min: 3000, max: 16_000, perGib: 500, required: false },
  io1: { min: 100, max: 64_000, perGib: 50, required: true },
  io2: { min: 100, max: 64_000, perGib: 500, required: true },
};

/** gp2's IOPS are its size's: 3 per GiB, from 100 to 16,000. */
const gp2Iops = (size: number) => Math.min(16_000, Math.max(100, 3 * size));

/**
 * A volume's spec as EBS would make it, from what a request asked and the defaults of the action
 * (CreateVolume: gp2; a root device: its default volume). Each rule EBS checks, with its error.
 */
export function volumeSpecOf(
  asked: VolumeRequest,
  defaults: { type: VolumeTypeName; size?: number },
  names: VolumeParameterNames,
): VolumeSpec {
  const parsed = VolumeType.safeParse(asked.type ?? defaults.type);
  if (!parsed.success)
    throw invalidParameterValue(
      names.type,
      asked.type ?? "",
      `Expecting one of ${VolumeType.options.join(", ")}.`,
    );
  const type = parsed.data;
  const size = asked.size ?? defaults.size;
  if (size === undefined) throw missingParameter(names.size);
  const [min, max] = sizes[type];
  if (size < min || size > max)
    throw new Ec2Error(
      "InvalidParameterValue",
      `Volume of ${size}GiB is outside the range of ${min}GiB to ${max}GiB for ${type} volumes.`,
    );
  const rule = provisioned[type];
  if (!rule && asked.iops !== undefined)
    throw invalidParameterCombination(`The parameter iops is not supported for ${type} volumes.`);
  if (rule?.required && asked.iops === undefined) throw missingParameter(names.iops);
  const iops = rule ? (asked.iops ?? rule.min) : type === "gp2" ? gp2Iops(size) : null;
  if (rule && iops !== null && (iops < rule.min || iops > rule.max))
    throw invalidParameterValue(
      names.iops,
      String(iops),
      `Expecting ${rule.min} to ${rule.max} IOPS for ${type}.`,
    );
  if (rule && iops !== null && iops > rule.perGib * size && iops > rule.min)
    throw invalidParameterValue(
      names.iops,
      String(iops),
      `A ${type} volume has at most ${rule.perGib} IOPS per GiB.`,
    );
  if (type !== "gp3" && asked.throughput !== undefined)
    throw invalidParameterCombination(`The parameter throughput is not supported for ${type} volumes.`);
  const throughput = type === "gp3" ? (asked.throughput ?? 125) : null;
  if (throughput !== null && (throughput < 125 || throughput > 1000))
    throw invalidParameterValue(names.throughput, String(throughput), "Expecting 125 to 1000 MiB/s for gp3.");
  if (throughput !== null && iops !== null && throughput > iops / 4)
    throw invalidParameterValue(
      names.throughput,
      String(throughput),
      "A gp3 volume's throughput is at most its IOPS / 4.",
    );
  return { size_gib: size, volume_type: type, iops, throughput, encrypted: asked.encrypted ?? false };
}
