import { AppError, MAX_ATTACHMENTS, ROOT_DEVICE, type ServerState, type VolumeState } from "@cloudsim/shared";
import type { AttachmentState } from "./volume-states.ts";

/** A volume as the rules of attaching, detaching and deleting see it. */
export interface VolumeFacts {
  volumeId: string;
  state: VolumeState;
  zone: string;
  attachment: { instanceId: string; device: string; state: AttachmentState } | null;
}

/** An instance as AttachVolume sees it: its state, zone and the devices in use. */
export interface InstanceFacts {
  instanceId: string;
  state: ServerState;
  zone: string;
  devices: readonly string[];
}

const conflict = (reason: string, message: string, details: Record<string, unknown> = {}) =>
  new AppError("CONFLICT", message, { reason, ...details });

/** Why `volume` may not be attached to `instance` at `device` now, if it may not (EC2's checks, in its order). */
export function attachRefusal(
  volume: VolumeFacts,
  instance: InstanceFacts,
  device: string,
): AppError | undefined {
  if (volume.attachment)
    return conflict("volume_in_use", `${volume.volumeId} is already attached to an instance`, {
      volume_id: volume.volumeId,
    });
  if (volume.state !== "available")
    return conflict("volume_state", `${volume.volumeId} is not 'available'.`, { state: volume.state });
  if (volume.zone !== instance.zone)
    return conflict(
      "volume_zone_mismatch",
      `The volume '${volume.volumeId}' is not in the same availability zone as instance '${instance.instanceId}'`,
    );
  if (instance.state !== "running" && instance.state !== "stopped")
    return new AppError("CONFLICT", `The instance '${instance.instanceId}' is not 'running' or 'stopped'.`, {
      instance_id: instance.instanceId,
      state: instance.state,
    });
  if (instance.devices.includes(device))
    return new AppError(
      "VALIDATION",
      `Invalid value '${device}' for unixDevice. Attachment point ${device} is already in use`,
      { reason: "device_in_use", device },
    );
  if (instance.devices.length >= MAX_ATTACHMENTS)
    return conflict(
      "attachment_limit",
      `Instance '${instance.instanceId}' has ${MAX_ATTACHMENTS} volumes attached: no more can be attached.`,
      { limit: MAX_ATTACHMENTS },
    );
  return undefined;
}

/**
 * Why `volume` may not be detached now (from `from`, when the request names an instance or a
 * device), if it may not. The root device of an instance that is not stopped stays attached.
 */
export function detachRefusal(
  volume: VolumeFacts,
  from: { instanceId?: string | undefined; device?: string | undefined },
  instanceState: ServerState | undefined,
): AppError | undefined {
  const { attachment } = volume;
  if (!attachment)
    return conflict("volume_state", `Volume '${volume.volumeId}' is in the '${volume.state}' state.`, {
      state: volume.state,
    });
  if (
    (from.instanceId !== undefined && from.instanceId !== attachment.instanceId) ||
    (from.device !== undefined && from.device !== attachment.device)
  )
    return new AppError(
      "NOT_FOUND",
      `The volume '${volume.volumeId}' is not attached to ${from.instanceId ? `instance '${from.instanceId}'` : `device '${from.device}'`}`,
      { attachment: volume.volumeId },
    );
  if (attachment.state !== "attached")
    return conflict("volume_state", `The attachment of '${volume.volumeId}' is ${attachment.state}.`, {
      state: attachment.state,
    });
  if (attachment.device === ROOT_DEVICE && instanceState !== "stopped")
    return new AppError(
      "CONFLICT",
      `The root volume of instance '${attachment.instanceId}' can be detached only while it is stopped.`,
      { instance_id: attachment.instanceId, state: instanceState },
    );
  return undefined;
}

/** Why `volume` may not be deleted now, if it may not; a volume already deleting is no refusal. */
export function deleteRefusal(volume: VolumeFacts): AppError | undefined {
  if (volume.attachment)
    return conflict(
      "volume_in_use",
      `Volume ${volume.volumeId} is currently attached to ${volume.attachment.instanceId}`,
      { volume_id: volume.volumeId },
    );
  if (volume.state !== "available" && volume.state !== "deleting")
    return conflict("volume_state", `The volume '${volume.volumeId}' is '${volume.state}'.`, {
      state: volume.state,
    });
  return undefined;
}
