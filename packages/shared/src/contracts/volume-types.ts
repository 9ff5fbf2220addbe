import { z } from "zod";

/** EBS's volume types. */
export const volumeTypes = ["gp2", "gp3", "io1", "io2", "st1", "sc1", "standard"] as const;
export const VolumeType = z.enum(volumeTypes);
export type VolumeType = z.infer<typeof VolumeType>;

/** What a volume is made of (CreateVolume, or an instance's root device). */
export const VolumeSpec = z.object({
  size_gib: z.number().int().min(1).max(16_384),
  volume_type: VolumeType,
  iops: z.number().int().min(100).max(256_000).nullable(),
  throughput: z.number().int().min(125).max(1000).nullable(),
  encrypted: z.boolean(),
});
export type VolumeSpec = z.infer<typeof VolumeSpec>;

/** An instance's root device: its volume, and whether terminating the instance deletes it. */
export const RootVolume = VolumeSpec.extend({ delete_on_termination: z.boolean() });
export type RootVolume = z.infer<typeof RootVolume>;

/** Where every instance's root volume is attached. */
export const ROOT_DEVICE = "/dev/xvda";

/** A volume attached to an instance, as the instance shows it (its block device mapping). */
export const BlockDevice = z.object({
  device: z.string(),
  volume_id: z.string(),
  status: z.enum(["attaching", "attached", "detaching"]),
  attach_time: z.string(),
  delete_on_termination: z.boolean(),
});
export type BlockDevice = z.infer<typeof BlockDevice>;

/** The most volumes one instance has attached, its root volume included. */
export const MAX_ATTACHMENTS = 16;

/** The root volume of an instance launched without a BlockDeviceMapping for it: 8 GiB of gp3, deleted with it. */
export const DEFAULT_ROOT_VOLUME: RootVolume = {
  size_gib: 8,
  volume_type: "gp3",
  iops: 3000,
  throughput: 125,
  encrypted: false,
  delete_on_termination: true,
};
