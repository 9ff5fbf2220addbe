import {
  type OutboxEvent,
  uuidv7,
  type VolumeState,
  type VolumeStateChanged,
  type VolumeType,
  volumeEventSubject,
} from "@cloudsim/shared";

/** What a volume's event tells of it. */
export interface EventVolume {
  id: string;
  volume_id: string;
  tenant_id: string;
  region: string;
  size_gib: number;
  type: string;
}

/** The event of a volume entering `to` at `at`, as it goes into the outbox. */
export function volumeStateChanged(
  volume: EventVolume,
  change: { from: VolumeState | null; to: VolumeState; at: Date; requestId: string | null },
): OutboxEvent {
  const payload: VolumeStateChanged = {
    id: uuidv7(),
    type: "volume.state_changed",
    occurred_at: change.at.toISOString(),
    volume_id: volume.id,
    tenant_id: volume.tenant_id,
    request_id: change.requestId,
    from_state: change.from,
    to_state: change.to,
    volume: {
      volume_id: volume.volume_id,
      region: volume.region as VolumeStateChanged["volume"]["region"],
      size_gib: volume.size_gib,
      volume_type: volume.type as VolumeType,
    },
  };
  return {
    subject: volumeEventSubject(change.to),
    orderingKey: volume.id,
    payload,
    requestId: change.requestId,
  };
}
