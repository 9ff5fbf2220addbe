import { instances, instanceTypes, type Region, regions, zonesOf } from "@cloudsim/shared";
import { type Ec2Action, requestContext, unlessDryRun } from "../context.ts";
import { Ec2Error, imageNotFound } from "../errors.ts";
import { checkFilterNames, matchesFilters, pageOf } from "../filters.ts";
import { bool, filters, int, list, str } from "../query.ts";
import { tagSetXml } from "../render.ts";
import { xmlList } from "../xml.ts";

/** A region's short name in zone ids, as AWS writes it: eu-west-1 → euw1, ap-southeast-1 → apse1. */
export function regionCode(region: string): string {
  const [area, direction = "", number = ""] = region.split("-");
  const initials = direction.replace(
    /(north|south)?(east|west|central)?/,
    (_, ns = "", ew = "") => `${ns[0] ?? ""}${ew[0] ?? ""}`,
  );
  return `${area}${initials}${number}`;
}

const describeRegions: Ec2Action = async (request) => {
  const named = list(request.params, "RegionName", { max: 100 });
  const given = filters(request.params);
  checkFilterNames(given, ["region-name", "endpoint", "opt-in-status"]);
  bool(request.params, "AllRegions");
  unlessDryRun(request);
  const unknown = named.find((name) => !(regions as readonly string[]).includes(name));
  if (unknown) throw new Ec2Error("InvalidParameterValue", `Invalid region: ${unknown.slice(0, 100)}`);
  const items = regions
    .filter((region) => named.length === 0 || named.includes(region))
    .map((region) => ({
      regionName: region,
      regionEndpoint: request.host,
      optInStatus: "opt-in-not-required",
    }))
    .filter((r) =>
      matchesFilters(given, {
        "region-name": r.regionName,
        endpoint: r.regionEndpoint,
        "opt-in-status": r.optInStatus,
      }),
    );
  return { regionInfo: xmlList(items) };
};

const describeAvailabilityZones: Ec2Action = async (request) => {
  const names = list(request.params, "ZoneName", { max: 100 });
  const ids = list(request.params, "ZoneId", { max: 100 });
  const given = filters(request.params);
  checkFilterNames(given, [
    "zone-name",
    "zone-id",
    "state",
    "region-name",
    "zone-type",
    "group-name",
    "opt-in-status",
  ]);
  bool(request.params, "AllAvailabilityZones");
  unlessDryRun(request);
  const region: Region = request.region;
  const zones = zonesOf(region).map((zoneName, i) => ({
    zoneName,
    zoneId: `${regionCode(region)}-az${i + 1}`,
    zoneState: "available",
    regionName: region,
    groupName: region,
    networkBorderGroup: region,
    zoneType: "availability-zone",
    optInStatus: "opt-in-not-required",
    messageSet: xmlList([]),
  }));
  const items = zones.filter(
    (z) =>
      (names.length === 0 || names.includes(z.zoneName)) &&
      (ids.length === 0 || ids.includes(z.zoneId)) &&
      matchesFilters(given, {
        "zone-name": z.zoneName,
        "zone-id": z.zoneId,
        state: z.zoneState,
        "region-name": z.regionName,
        "zone-type": z.zoneType,
        "group-name": z.groupName,
        "opt-in-status": z.optInStatus,
      }),
  );
  const missing = names.find((name) => !zones.some((z) => z.zoneName === name));
  if (missing)
    throw new Ec2Error("InvalidParameterValue", `Invalid availability zone: [${missing.slice(0, 100)}]`);
  return { availabilityZoneInfo: xmlList(items) };
};

const describeInstanceTypes: Ec2Action = async (request) => {
  const named = list(request.params, "InstanceType", { max: 100 });
  const given = filters(request.params);
  checkFilterNames(given, [
    "instance-type",
    "current-generation",
    "vcpu-info.default-vcpus",
    "memory-info.size-in-mib",
    "processor-info.supported-architecture",
  ]);
  const max = int(request.params, "MaxResults", { min: 5, max: 100 });
  const token = str(request.params, "NextToken", { max: 20 });
  unlessDryRun(request);
  const unknown = named.filter((name) => !Object.hasOwn(instanceTypes, name));
  if (unknown.length)
    throw new Ec2Error(
      "InvalidInstanceType",
      `The following supplied instance types do not exist: [${unknown.join(", ").slice(0, 200)}]`,
    );
  const all = Object.entries(instanceTypes)
    .filter(([name]) => named.length === 0 || named.includes(name))
    .filter(([name, spec]) =>
      matchesFilters(given, {
        "instance-type": name,
        "current-generation": "true",
        "vcpu-info.default-vcpus": String(spec.vcpus),
        "memory-info.size-in-mib": String(spec.memory_mib),
        "processor-info.supported-architecture": "x86_64",
      }),
    );
  const { page, nextToken } = pageOf(all, max, token);
  return {
    instanceTypeSet: xmlList(
      page.map(([name, spec]) => ({
        instanceType: name,
        currentGeneration: true,
        freeTierEligible: name === "t2.micro",
        supportedUsageClasses: xmlList(["on-demand"]),
        supportedRootDeviceTypes: xmlList(["ebs"]),
        supportedVirtualizationTypes: xmlList(["hvm"]),
        bareMetal: false,
        hypervisor: "xen",
        processorInfo: { supportedArchitectures: xmlList(["x86_64"]) },
        vCpuInfo: { defaultVCpus: spec.vcpus, defaultCores: spec.vcpus, defaultThreadsPerCore: 1 },
        memoryInfo: { sizeInMiB: spec.memory_mib },
        instanceStorageSupported: false,
      })),
    ),
    nextToken,
  };
};

/** The catalogue's images belong to no tenant: their owner is cloudsim, alias `amazon` for tools that ask so. */
const IMAGE_OWNER = { id: "000000000000", alias: "amazon" };

const describeImages: Ec2Action = async (request) => {
  const ids = list(request.params, "ImageId", { max: 1000 });
  const owners = list(request.params, "Owner", { max: 100 });
  const given = filters(request.params);
  checkFilterNames(given, [
    "image-id",
    "name",
    "description",
    "architecture",
    "state",
    "owner-id",
    "owner-alias",
    "is-public",
    "image-type",
    "platform-details",
  ]);
  unlessDryRun(request);
  const { items } = await request.bus.request(instances.images, {}, requestContext(request));
  const missing = ids.filter((id) => !items.some((image) => image.id === id));
  if (missing.length) throw imageNotFound(missing.join(", "));
  const images = items.filter(
    (image) =>
      (ids.length === 0 || ids.includes(image.id)) &&
      (owners.length === 0 || owners.some((o) => o === IMAGE_OWNER.alias || o === IMAGE_OWNER.id)) &&
      matchesFilters(given, {
        "image-id": image.id,
        name: image.name,
        description: image.description,
        architecture: image.architecture,
        state: "available",
        "owner-id": IMAGE_OWNER.id,
        "owner-alias": IMAGE_OWNER.alias,
        "is-public": "true",
        "image-type": "machine",
        "platform-details": image.platform,
      }),
  );
  return {
    imagesSet: xmlList(
      images.map((image) => ({
        imageId: image.id,
        imageLocation: `${IMAGE_OWNER.alias}/${image.name}`,
        imageState: "available",
        imageOwnerId: IMAGE_OWNER.id,
        imageOwnerAlias: IMAGE_OWNER.alias,
        creationDate: image.created_at,
        isPublic: true,
        architecture: image.architecture,
        imageType: "machine",
        name: image.name,
        description: image.description,
        platform: image.platform === "Windows" ? "windows" : undefined,
        platformDetails: image.platform,
        rootDeviceType: "ebs",
        rootDeviceName: "/dev/xvda",
        blockDeviceMapping: xmlList([]),
        virtualizationType: "hvm",
        hypervisor: "xen",
        tagSet: tagSetXml({}),
      })),
    ),
  };
};

export const catalogueActions: Record<string, Ec2Action> = {
  DescribeRegions: describeRegions,
  DescribeAvailabilityZones: describeAvailabilityZones,
  DescribeInstanceTypes: describeInstanceTypes,
  DescribeImages: describeImages,
};
