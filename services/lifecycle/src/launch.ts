import {
  AppError,
  type Db,
  DEFAULT_ROOT_VOLUME,
  defaultZone,
  type Image,
  type LaunchNetwork,
  type Region,
  type RootVolume,
  type ServerState,
  uuidv7,
  zonesOf,
} from "@cloudsim/shared";
import type { LifecycleConfig } from "./config.ts";
import { buildServerWrite, type ServerWrite } from "./db/insert-servers.ts";
import { liveInZone } from "./db/server-reads.ts";
import { defaultName } from "./domain/server-view.ts";

/** What one new server is made from, whichever API asked for it. */
export interface LaunchSpec {
  name?: string | undefined;
  region: Region;
  type: string;
  image?: string | undefined;
  availability_zone?: string | undefined;
  key_name?: string | undefined;
  tags?: Record<string, string> | undefined;
  network?: LaunchNetwork | undefined;
  user_data?: string | undefined;
  disable_api_termination?: boolean | undefined;
  disable_api_stop?: boolean | undefined;
  shutdown_behavior?: "stop" | "terminate" | undefined;
  root_volume?: RootVolume | undefined;
  volume_tags?: Record<string, string> | undefined;
}

/** The configured images, and the checks a launch makes against them and the region's zones. */
export function launchCatalogue(images: readonly Image[]) {
  const byId = new Map(images.map((image) => [image.id, image]));
  const defaultImage = images[0] as Image;
  return {
    images,
    /** The image and zone a spec launches with; NOT_FOUND for an unknown image, VALIDATION for a zone. */
    resolve(spec: LaunchSpec): { image: Image; zone: string } {
      const image = spec.image === undefined ? defaultImage : byId.get(spec.image);
      if (!image)
        throw new AppError("NOT_FOUND", `image ${spec.image} does not exist`, { image_id: spec.image });
      const zone = spec.availability_zone ?? defaultZone(spec.region);
      if (!zonesOf(spec.region).includes(zone)) {
        const message = `${zone} is not a zone of ${spec.region}: one of ${zonesOf(spec.region).join(", ")}`;
        throw new AppError("VALIDATION", `availability_zone: ${message}`, {
          fields: [{ field: "availability_zone", message }],
        });
      }
      return { image, zone };
    },
  };
}
export type LaunchCatalogue = ReturnType<typeof launchCatalogue>;

/** How many more servers ZONE_CAPACITY lets into a zone (checked when a launch is decided). */
export async function zoneRoom(db: Db, zone: string, capacity: number): Promise<number> {
  return capacity === 0 ? Number.POSITIVE_INFINITY : Math.max(0, capacity - (await liveInZone(db, zone)));
}

/** A full zone, in EC2's words (its InsufficientInstanceCapacity). */
export function noCapacity(
  type: string,
  zone: string,
  region: Region,
  wanted: number,
  room: number,
): AppError {
  const others = zonesOf(region).filter((z) => z !== zone);
  return new AppError(
    "EXHAUSTED",
    `We currently do not have sufficient ${type} capacity in the Availability Zone you requested (${zone}). ` +
      `You can currently get ${type} capacity by choosing ${others.join(", ")}.`,
    { reason: "capacity", availability_zone: zone, requested: wanted, room },
  );
}

/** A reservation id: r- and the 17 hex digits its first server's instance id has. */
export const reservationIdOf = (serverId: string) => `r-${serverId.replaceAll("-", "").slice(-17)}`;

export interface Launch {
  id: string;
  tenantId: string;
  spec: LaunchSpec;
  placed: { image: Image; zone: string };
  address: string;
  reservationId: string;
  clientToken?: string | undefined;
  simulateFailure: boolean;
  requestId: string;
}

/** The write that stores one new server in provisioning, with its first log entries. */
export function launchWrite(
  launch: Launch,
  config: Pick<LifecycleConfig, "PROVISION_DELAY" | "PROVISION_FAILURE_RATE">,
  idempotency?: { key: string; requestHash: string },
): ServerWrite {
  const { id, spec, address, requestId } = launch;
  const toState: ServerState = "provisioning";
  return buildServerWrite(
    {
      id,
      tenantId: launch.tenantId,
      name: spec.name ?? defaultName(id),
      region: spec.region,
      type: spec.type,
      tags: spec.tags ?? {},
      reservationId: launch.reservationId,
      image: launch.placed.image.id,
      availabilityZone: launch.placed.zone,
      architecture: launch.placed.image.architecture,
      keyName: spec.key_name,
      clientToken: launch.clientToken,
      subnetId: spec.network?.subnet_id,
      vpcId: spec.network?.vpc_id,
      securityGroups: spec.network?.security_groups ?? [],
      userData: spec.user_data,
      disableApiTermination: spec.disable_api_termination ?? false,
      disableApiStop: spec.disable_api_stop ?? false,
      shutdownBehavior: spec.shutdown_behavior ?? "stop",
      rootVolume: {
        id: uuidv7(),
        ...(spec.root_volume ?? DEFAULT_ROOT_VOLUME),
        tags: spec.volume_tags ?? {},
      },
      ipAddress: address,
      delayMs: config.PROVISION_DELAY,
      failPending: launch.simulateFailure || Math.random() < config.PROVISION_FAILURE_RATE,
      requestId,
    },
    [
      {
        type: "state.changed",
        message: `provisioning ${spec.type} from ${launch.placed.image.id} in ${launch.placed.zone}`,
        toState,
        actor: "user",
        requestId,
      },
      { type: "ip.allocated", message: `address ${address} allocated`, actor: "system", requestId },
    ],
    idempotency,
  );
}
