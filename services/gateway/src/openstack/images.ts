import { createHash } from "node:crypto";
import { type Bus, type Image, instances } from "@cloudsim/shared";

/**
 * An AMI's OpenStack id: a UUID (version 5 style, SHA-1 of a namespace and the AMI id), the same
 * on every gateway, so one image has two ids and either names it.
 */
export function imageUuidOf(amiId: string): string {
  const hash = createHash("sha1").update(`cloudsim-image:${amiId}`).digest();
  hash[6] = ((hash[6] ?? 0) & 0x0f) | 0x50;
  hash[8] = ((hash[8] ?? 0) & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The catalogue's images (lifecycle.images, the EC2 face's AMIs). */
export async function imageCatalogue(bus: Bus, requestId: string): Promise<readonly Image[]> {
  return (await bus.request(instances.images, {}, { requestId })).items;
}

/** The image an OpenStack id or an AMI id names. */
export const findImage = (images: readonly Image[], ref: string) =>
  images.find((image) => image.id === ref || imageUuidOf(image.id) === ref.toLowerCase());

/** The catalogue's image `ref` names (an OpenStack id or an AMI id), if any. */
export const catalogueImage = async (bus: Bus, requestId: string, ref: string) =>
  findImage(await imageCatalogue(bus, requestId), ref);

/** A Glance v2 image object. */
export function glanceImage(image: Image) {
  const id = imageUuidOf(image.id);
  return {
    id,
    name: image.name,
    status: "active",
    visibility: "public",
    protected: false,
    os_hidden: false,
    disk_format: "qcow2",
    container_format: "bare",
    size: 0,
    virtual_size: null,
    min_disk: 0,
    min_ram: 0,
    checksum: null,
    os_hash_algo: null,
    os_hash_value: null,
    owner: null,
    tags: [],
    architecture: image.architecture,
    os_distro: image.platform,
    description: image.description,
    ec2_image_id: image.id,
    created_at: image.created_at.replace(/\.\d+Z$/, "Z"),
    updated_at: image.created_at.replace(/\.\d+Z$/, "Z"),
    self: `/v2/images/${id}`,
    file: `/v2/images/${id}/file`,
    schema: "/v2/schemas/image",
  };
}
