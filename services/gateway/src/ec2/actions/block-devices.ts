import { DEFAULT_ROOT_VOLUME, ROOT_DEVICE, type RootVolume } from "@cloudsim/shared";
import { invalidParameterValue } from "../errors.ts";
import { bool, type Ec2Params, int, str, structs } from "../query.ts";
import { volumeSpecOf } from "../volume-spec.ts";

/**
 * RunInstances' BlockDeviceMapping.N: the root device's volume (DeviceName /dev/xvda, its
 * Ebs.VolumeSize, VolumeType, Iops, Throughput, Encrypted, DeleteOnTermination), over the 8 GiB
 * gp3 default. Other devices are refused by name: volumes beyond the root one are attached with
 * AttachVolume. Undefined when the request maps nothing.
 */
export function rootVolumeOf(params: Ec2Params): RootVolume | undefined {
  const mappings = structs(params, "BlockDeviceMapping", { max: 16 });
  if (mappings.length === 0) return undefined;
  let root: RootVolume | undefined;
  for (const mapping of mappings) {
    const device = str(mapping, "DeviceName", { required: true, max: 64 });
    if (device !== ROOT_DEVICE)
      throw invalidParameterValue(
        `${mapping.scope}.DeviceName`,
        device,
        `cloudsim launches an instance with its root volume at ${ROOT_DEVICE} only: attach others with AttachVolume.`,
      );
    for (const unsupported of [
      "Ebs.SnapshotId",
      "Ebs.KmsKeyId",
      "Ebs.OutpostArn",
      "VirtualName",
      "NoDevice",
    ]) {
      if (mapping.has(unsupported))
        throw invalidParameterValue(
          `${mapping.scope}.${unsupported}`,
          mapping.get(unsupported) ?? "",
          "cloudsim has no snapshots, KMS keys, Outposts or instance stores: leave it out.",
        );
    }
    const at = (member: string) => `${mapping.scope}.Ebs.${member}`;
    const spec = volumeSpecOf(
      {
        size: int(mapping, "Ebs.VolumeSize", { min: 1, max: 65_536 }),
        type: str(mapping, "Ebs.VolumeType", { max: 32 }),
        iops: int(mapping, "Ebs.Iops", { min: 1, max: 1_000_000 }),
        throughput: int(mapping, "Ebs.Throughput", { min: 1, max: 100_000 }),
        encrypted: bool(mapping, "Ebs.Encrypted"),
      },
      { type: DEFAULT_ROOT_VOLUME.volume_type, size: DEFAULT_ROOT_VOLUME.size_gib },
      { size: at("VolumeSize"), type: at("VolumeType"), iops: at("Iops"), throughput: at("Throughput") },
    );
    root = {
      ...spec,
      delete_on_termination:
        bool(mapping, "Ebs.DeleteOnTermination") ?? DEFAULT_ROOT_VOLUME.delete_on_termination,
    };
  }
  return root;
}
