import { z } from "zod";
import { defineCommand } from "./command.ts";
import { Ec2Tags } from "./instances.ts";
import { ResourceScope, RetagReply, RetagRequest, TagListReply, TagListRequest } from "./resource-tags.ts";
import { AvailabilityZone } from "./servers.ts";
import { Timestamp } from "./timestamp.ts";
import { BlockDevice, VolumeSpec } from "./volume-types.ts";

/**
 * EBS volumes, answered by lifecycle beside the instances they attach to. Their states are EC2's:
 * creating, available, in-use (attached, or attaching or detaching), deleting, deleted (gone
 * from the API); each timed one lasts its VOLUME_*_DELAY on lifecycle's durable timer.
 */

export const volumeStates = ["creating", "available", "in-use", "deleting", "deleted"] as const;
export const VolumeState = z.enum(volumeStates);
export type VolumeState = z.infer<typeof VolumeState>;

/** A volume's id: vol- and 17 hex digits, the last 17 of its UUID. */
export const VolumeId = z.string().regex(/^vol-[0-9a-f]{17}$/);

/** An attachment as a volume shows it (and AttachVolume and DetachVolume answer it). */
export const VolumeAttachment = BlockDevice.extend({ instance_id: z.string() });
export type VolumeAttachment = z.infer<typeof VolumeAttachment>;

export const Volume = VolumeSpec.extend({
  id: z.uuid(),
  volume_id: VolumeId,
  region: z.string(),
  availability_zone: z.string(),
  state: VolumeState,
  created_at: Timestamp,
  tags: z.record(z.string(), z.string()),
  attachment: VolumeAttachment.nullable(),
});
export type Volume = z.infer<typeof Volume>;

/** DescribeVolumes' filters, besides `tag:<key>`. */
export const volumeFilterNames = [
  "volume-id",
  "status",
  "availability-zone",
  "size",
  "volume-type",
  "attachment.instance-id",
  "attachment.device",
  "attachment.status",
  "attachment.attach-time",
  "attachment.delete-on-termination",
  "encrypted",
  "create-time",
  "multi-attach-enabled",
  "tag-key",
] as const;

export const VolumeFilter = z.object({
  name: z.union([z.enum(volumeFilterNames), z.string().regex(/^tag:.{1,128}$/s)]),
  values: z.array(z.string().max(256)).min(1).max(200),
});
export type VolumeFilter = z.infer<typeof VolumeFilter>;

/** The most volumes a describe page holds (each, with its tags, well under 25 KB). */
export const MAX_VOLUME_PAGE = 40;
/** The most volume ids one request names. */
export const MAX_VOLUME_IDS = 1000;

const Ids = z.array(z.string().max(100)).min(1).max(MAX_VOLUME_IDS);
const Device = z.string().min(1).max(64);
const InstanceRef = z.string().max(100);

export const volumes = {
  /** A new volume in `creating`; the gateway checks that its zone is one of its region's. */
  create: defineCommand("lifecycle", "volume_create", {
    request: VolumeSpec.extend({
      tenant_id: z.string().min(1).max(64),
      region: ResourceScope.region,
      availability_zone: AvailabilityZone,
      tags: Ec2Tags.default({}),
      /** A retry with the same token and request answers the same volume. */
      client_token: z.string().min(1).max(64).optional(),
    }),
    reply: Volume,
  }),
  /** A page of volumes, oldest first (unknown ids: NOT_FOUND naming them). */
  describe: defineCommand("lifecycle", "volumes_describe", {
    request: z.object({
      ...ResourceScope,
      ids: Ids.optional(),
      filters: z.array(VolumeFilter).max(50).default([]),
      limit: z.number().int().min(1).max(MAX_VOLUME_PAGE),
      cursor: z.string().max(200).optional(),
    }),
    reply: z.object({ items: z.array(Volume), next_cursor: z.string().nullable() }),
  }),
  /** Attaches an available volume to an instance of its zone that runs or is stopped. */
  attach: defineCommand("lifecycle", "volume_attach", {
    request: z.object({
      ...ResourceScope,
      volume_id: z.string().max(100),
      instance_id: InstanceRef,
      device: Device,
    }),
    reply: VolumeAttachment,
  }),
  /** Starts detaching an attached volume (from that instance or device, when given). */
  detach: defineCommand("lifecycle", "volume_detach", {
    request: z.object({
      ...ResourceScope,
      volume_id: z.string().max(100),
      instance_id: InstanceRef.optional(),
      device: Device.optional(),
    }),
    reply: VolumeAttachment,
  }),
  /** Starts deleting an available volume (one already deleting: unchanged). */
  delete: defineCommand("lifecycle", "volume_delete", {
    request: z.object({ ...ResourceScope, volume_id: z.string().max(100) }),
    reply: z.object({ volume_id: VolumeId }),
  }),
  /** Whether terminating the instance deletes the volumes at these devices (ModifyInstanceAttribute). */
  deleteOnTermination: defineCommand("lifecycle", "volumes_delete_on_termination", {
    request: z.object({
      ...ResourceScope,
      instance_id: InstanceRef,
      devices: z
        .array(z.object({ device: Device, delete_on_termination: z.boolean() }))
        .min(1)
        .max(32),
    }),
    reply: z.object({ count: z.number().int() }),
  }),
  tag: defineCommand("lifecycle", "volumes_tag", { request: RetagRequest, reply: RetagReply }),
  tags: defineCommand("lifecycle", "volumes_tags", { request: TagListRequest, reply: TagListReply }),
};
