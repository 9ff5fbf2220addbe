import { InstanceType, instances, MAX_RUN_COUNT, type ServerAction } from "@cloudsim/shared";
import { type Ec2Action, requestContext, unlessDryRun, visibility } from "../context.ts";
import { dryRunOperation, Ec2Error, imageIdMalformed, invalidParameterValue } from "../errors.ts";
import { bool, type Ec2Params, int, str, structs, tags } from "../query.ts";
import { reservationXml, stateXml } from "../render.ts";
import { xmlList } from "../xml.ts";
import { rootVolumeOf } from "./block-devices.ts";
import { launchAttributes } from "./instance-attributes.ts";
import { requiredIds } from "./instance-params.ts";
import { instanceReadActions } from "./instance-reads.ts";
import { launchNetwork } from "./launch-network.ts";

/** The launch's tags: TagSpecification.N with ResourceType instance, or volume (its root volume's). */
function launchTags(params: Ec2Params) {
  const tagged = { instance: {} as Record<string, string>, volume: {} as Record<string, string> };
  for (const spec of structs(params, "TagSpecification", { max: 10 })) {
    const type = str(spec, "ResourceType", { required: true });
    if (type !== "instance" && type !== "volume")
      throw invalidParameterValue(
        `${spec.scope}.ResourceType`,
        type,
        "Only instance and volume can be tagged here: cloudsim has no network interfaces or other resources.",
      );
    for (const tag of tags(spec, "Tag")) tagged[type][tag.key] = tag.value ?? "";
  }
  return tagged;
}

const runInstances: Ec2Action = async (request) => {
  const { params } = request;
  const image = str(params, "ImageId", { required: true });
  if (!/^ami-([0-9a-f]{8}|[0-9a-f]{17})$/.test(image)) throw imageIdMalformed(image);
  const typeName = str(params, "InstanceType") ?? "t2.micro";
  const type = InstanceType.safeParse(typeName);
  if (!type.success)
    throw new Ec2Error(
      "InvalidParameterValue",
      `Invalid value '${typeName.slice(0, 100)}' for InstanceType.`,
    );
  const minCount = int(params, "MinCount", { min: 1, max: MAX_RUN_COUNT, required: true });
  const maxCount = int(params, "MaxCount", { min: 1, max: 1_000_000, required: true });
  if (minCount > maxCount)
    throw invalidParameterValue("MinCount", String(minCount), "MinCount may not be greater than MaxCount.");
  const zone = str(params, "Placement.AvailabilityZone", { max: 64 });
  const launchTagged = launchTags(params);
  const placed = await launchNetwork(request, zone);
  const spec = {
    region: request.region,
    availability_zone: placed?.availability_zone ?? zone,
    network: placed?.network,
    type: type.data,
    image,
    key_name: str(params, "KeyName", { max: 255 }),
    tags: launchTagged.instance,
    volume_tags: launchTagged.volume,
    root_volume: rootVolumeOf(params),
    ...launchAttributes(params),
  };
  const clientToken = str(params, "ClientToken", { max: 64 });
  const dryRun = bool(params, "DryRun") ?? false;
  const run = await request.bus.request(
    instances.run,
    {
      tenant_id: request.owner,
      spec,
      min_count: minCount,
      // As many as fit, up to MaxCount; one request launches at most MAX_RUN_COUNT.
      max_count: Math.min(maxCount, MAX_RUN_COUNT),
      client_token: clientToken,
      // lifecycle checks the image, zone, quota and capacity, and launches nothing.
      dry_run: dryRun,
    },
    requestContext(request),
  );
  if (dryRun) throw dryRunOperation();
  return reservationXml(run.items);
};

/** Start, Stop and Terminate: each instance's state before and after. */
const stateChangeAction =
  (action: ServerAction): Ec2Action =>
  async (request) => {
    const ids = requiredIds(request.params);
    if (action === "stop") bool(request.params, "Force");
    unlessDryRun(request);
    const { items } = await request.bus.request(
      instances.act,
      { ...visibility(request), ids, action },
      requestContext(request),
    );
    return {
      instancesSet: xmlList(
        items.map((item) => ({
          instanceId: item.instance_id,
          currentState: stateXml(item.state),
          previousState: stateXml(item.previous_state),
        })),
      ),
    };
  };

const rebootInstances: Ec2Action = async (request) => {
  const ids = requiredIds(request.params);
  unlessDryRun(request);
  await request.bus.request(
    instances.act,
    { ...visibility(request), ids, action: "reboot" },
    requestContext(request),
  );
  return { return: true };
};

/** Every instance action: those that change instances, here, and those that read them. */
export const instanceActions: Record<string, Ec2Action> = {
  ...instanceReadActions,
  RunInstances: runInstances,
  StartInstances: stateChangeAction("start"),
  StopInstances: stateChangeAction("stop"),
  TerminateInstances: stateChangeAction("terminate"),
  RebootInstances: rebootInstances,
};
