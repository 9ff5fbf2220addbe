import type { BlockDevice, VolumeState } from "@cloudsim/shared";

/** Delays of the volumes' timed states, in milliseconds, from config. */
export interface VolumeDelays {
  VOLUME_CREATE_DELAY: number;
  VOLUME_ATTACH_DELAY: number;
  VOLUME_DETACH_DELAY: number;
  VOLUME_DELETE_DELAY: number;
}

export type AttachmentState = BlockDevice["status"];

/** A volume whose due time has come, as the timer reads it. */
export interface DueVolume {
  state: VolumeState;
  attachment: AttachmentState | null;
  /** The instance it is attached to has ended (the trigger on servers set it). */
  instanceEnded: boolean;
  deleteOnTermination: boolean;
}

/** Where a due volume goes: its state, its attachment (null: detached) and the next timed state's delay. */
export interface VolumeMove {
  state: VolumeState;
  attachment: AttachmentState | null;
  delay: keyof VolumeDelays | null;
}

/**
 * What ends when a volume's time is up. An ended instance releases what it holds: a volume
 * with DeleteOnTermination starts deleting, any other starts detaching. Otherwise the timed
 * state ends: creating → available (a root volume: in-use, attached), attaching → attached,
 * detaching → available, deleting → deleted.
 */
export function dueMove(volume: DueVolume): VolumeMove {
  const { state, attachment } = volume;
  if (volume.instanceEnded && attachment !== null && attachment !== "detaching") {
    return volume.deleteOnTermination
      ? { state: "deleting", attachment: null, delay: "VOLUME_DELETE_DELAY" }
      : { state: "in-use", attachment: "detaching", delay: "VOLUME_DETACH_DELAY" };
  }
  if (state === "creating")
    return attachment === null
      ? { state: "available", attachment: null, delay: null }
      : { state: "in-use", attachment: "attached", delay: null };
  if (attachment === "attaching") return { state: "in-use", attachment: "attached", delay: null };
  if (attachment === "detaching") return { state: "available", attachment: null, delay: null };
  if (state === "deleting") return { state: "deleted", attachment: null, delay: null };
  return { state, attachment, delay: null };
}
