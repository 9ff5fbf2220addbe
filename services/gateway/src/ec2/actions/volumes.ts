import {
  MAX_VOLUME_IDS,
  MAX_VOLUME_PAGE,
  type Volume,
  type VolumeAttachment,
  volumeFilterNames,
  volumes,
  zonesOf,
} from "@cloudsim/shared";
import { type Ec2Action, type Ec2Request, requestContext, unlessDryRun } from "../context.ts";
import { invalidParameterCombination, invalidParameterValue, volumeIdMalformed } from "../errors.ts";
import { checkFilterNames } from "../filters.ts";
import { collectPages } from "../pages.ts";
import { bool, type Ec2Params, filters, int, list, str } from "../query.ts";
import { tagSetXml } from "../render.ts";
import { tagSpecifications } from "../tag-specifications.ts";
import { volumeSpecOf } from "../volume-spec.ts";
import { type XmlObject, xmlList } from "../xml.ts";
import { instanceIdParam } from "./instance-params.ts";

/** The most volumes one DescribeVolumes without MaxResults answers before it gives a NextToken. */
const UNPAGED_LIMIT = 1000;

const scopeOf = (request: Ec2Request) => ({ tenant_id: request.scope, region: request.region });

const wellFormed = (id: string) => /^vol-([0-9a-f]{8}|[0-9a-f]{17})$/.test(id);

function volumeIdParam(params: Ec2Params): string {
  const id = str(params, "VolumeId", { required: true });
  if (!wellFormed(id)) throw volumeIdMalformed(id);
  return id;
}

/** A device name as EBS takes it on Linux: /dev/sd* or /dev/xvd*. */
export function deviceParam(params: Ec2Params, name: string, required: boolean): string | undefined {
  const device = str(params, name, { required, max: 64 });
  if (device !== undefined && !/^\/dev\/(sd|xvd)[a-z]{1,2}[0-9]{0,2}$/.test(device))
    throw invalidParameterValue(name, device, `${device} is not a valid EBS device name.`);
  return device;
}

export const attachmentXml = (a: VolumeAttachment): XmlObject => ({
  volumeId: a.volume_id,
  instanceId: a.instance_id,
  device: a.device,
  status: a.status,
  attachTime: a.attach_time,
  deleteOnTermination: a.delete_on_termination,
});

/** A volume as CreateVolume and DescribeVolumes show it (attachmentSet is describe's only). */
const volumeXml = (v: Volume): XmlObject => ({
  volumeId: v.volume_id,
  size: v.size_gib,
  snapshotId: "",
  availabilityZone: v.availability_zone,
  status: v.state,
  createTime: v.created_at,
  attachmentSet: xmlList(v.attachment ? [attachmentXml(v.attachment)] : []),
  volumeType: v.volume_type,
  iops: v.iops,
  throughput: v.throughput,
  encrypted: v.encrypted,
  multiAttachEnabled: false,
  tagSet: tagSetXml(v.tags),
});

const createVolume: Ec2Action = async (request) => {
  const { params } = request;
  const zone = str(params, "AvailabilityZone", { required: true, max: 64 });
  if (!zonesOf(request.region).includes(zone))
    throw invalidParameterValue(
      "AvailabilityZone",
      zone,
      `Expecting one of ${zonesOf(request.region).join(", ")}.`,
    );
  if (str(params, "SnapshotId") !== undefined)
    throw invalidParameterValue(
      "SnapshotId",
      str(params, "SnapshotId") ?? "",
      "cloudsim has no snapshots: make an empty volume with Size.",
    );
  if (str(params, "KmsKeyId") !== undefined)
    throw invalidParameterValue(
      "KmsKeyId",
      "",
      "cloudsim has no KMS keys: Encrypted=true uses the default key.",
    );
  if (bool(params, "MultiAttachEnabled"))
    throw invalidParameterValue(
      "MultiAttachEnabled",
      "true",
      "cloudsim attaches a volume to one instance at a time.",
    );
  if (str(params, "OutpostArn") !== undefined)
    throw invalidParameterValue("OutpostArn", "", "cloudsim has no Outposts.");
  const spec = volumeSpecOf(
    {
      size: int(params, "Size", { min: 1, max: 65_536 }),
      type: str(params, "VolumeType", { max: 32 }),
      iops: int(params, "Iops", { min: 1, max: 1_000_000 }),
      throughput: int(params, "Throughput", { min: 1, max: 100_000 }),
      encrypted: bool(params, "Encrypted"),
    },
    { type: "gp2" },
    { size: "Size", type: "VolumeType", iops: "Iops", throughput: "Throughput" },
  );
  const tags = tagSpecifications(params, "volume");
  const clientToken = str(params, "ClientToken", { max: 64 });
  unlessDryRun(request);
  const volume = await request.bus.request(
    volumes.create,
    {
      ...spec,
      tenant_id: request.owner,
      region: request.region,
      availability_zone: zone,
      tags,
      client_token: clientToken || undefined,
    },
    requestContext(request),
  );
  return volumeXml(volume);
};

/** Pages of volumes from lifecycle until `wanted` or the last. */
const describePages = (
  request: Ec2Request,
  query: { ids: string[] | undefined; filters: { name: string; values: string[] }[] },
  wanted: number,
  nextToken: string | undefined,
) =>
  collectPages(
    (limit, cursor) =>
      request.bus.request(
        volumes.describe,
        { ...scopeOf(request), ids: query.ids, filters: query.filters as never, limit, cursor },
        requestContext(request),
      ),
    { pageSize: MAX_VOLUME_PAGE, wanted, cursor: nextToken },
  );

const describeVolumes: Ec2Action = async (request) => {
  const { params } = request;
  const ids = list(params, "VolumeId", { max: MAX_VOLUME_IDS });
  for (const id of ids) if (!wellFormed(id)) throw volumeIdMalformed(id);
  const given = filters(params);
  checkFilterNames(given, volumeFilterNames, true);
  const max = int(params, "MaxResults", { min: 5, max: 500 });
  if (max !== undefined && ids.length > 0)
    throw invalidParameterCombination("The parameter volumeSet cannot be used with the parameter maxResults");
  const nextToken = str(params, "NextToken", { max: 200 });
  unlessDryRun(request);
  const page = await describePages(
    request,
    { ids: ids.length ? ids : undefined, filters: given },
    max ?? UNPAGED_LIMIT,
    nextToken,
  );
  return { volumeSet: xmlList(page.items.map(volumeXml)), nextToken: page.nextToken };
};

const attachVolume: Ec2Action = async (request) => {
  const { params } = request;
  const volumeId = volumeIdParam(params);
  const instanceId = instanceIdParam(params);
  const device = deviceParam(params, "Device", true) as string;
  unlessDryRun(request);
  return attachmentXml(
    await request.bus.request(
      volumes.attach,
      { ...scopeOf(request), volume_id: volumeId, instance_id: instanceId, device },
      requestContext(request),
    ),
  );
};

/** Detaches a volume; Force takes as long as a detach does (nothing is flushed in a simulation). */
const detachVolume: Ec2Action = async (request) => {
  const { params } = request;
  const volumeId = volumeIdParam(params);
  const instanceId = params.has("InstanceId") ? instanceIdParam(params) : undefined;
  const device = deviceParam(params, "Device", false);
  bool(params, "Force");
  unlessDryRun(request);
  return attachmentXml(
    await request.bus.request(
      volumes.detach,
      { ...scopeOf(request), volume_id: volumeId, instance_id: instanceId, device },
      requestContext(request),
    ),
  );
};

const deleteVolume: Ec2Action = async (request) => {
  const volumeId = volumeIdParam(request.params);
  unlessDryRun(request);
  await request.bus.request(
    volumes.delete,
    { ...scopeOf(request), volume_id: volumeId },
    requestContext(request),
  );
  return { return: true };
};

export const volumeActions: Record<string, Ec2Action> = {
  CreateVolume: createVolume,
  DescribeVolumes: describeVolumes,
  AttachVolume: attachVolume,
  DetachVolume: detachVolume,
  DeleteVolume: deleteVolume,
};
