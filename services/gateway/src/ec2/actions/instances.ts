import {
  type Instance,
  InstanceType,
  instanceFilterNames,
  instances,
  lifecycle,
  MAX_DESCRIBE_PAGE,
  MAX_INSTANCE_IDS,
  MAX_RUN_COUNT,
  type ServerAction,
} from "@cloudsim/shared";
import { type Ec2Action, type Ec2Request, requestContext, unlessDryRun, visibility } from "../context.ts";
import {
  dryRunOperation,
  Ec2Error,
  imageIdMalformed,
  instanceIdMalformed,
  invalidParameterCombination,
  invalidParameterValue,
} from "../errors.ts";
import { checkFilterNames, matchesFilters } from "../filters.ts";
import { bool, type Ec2Params, filters, int, list, str, structs, tags } from "../query.ts";
import { instanceStatusXml, reservationsXml, reservationXml, stateXml } from "../render.ts";
import { xmlList } from "../xml.ts";

const wellFormed = (id: string) => /^i-([0-9a-f]{8}|[0-9a-f]{17})$/.test(id);

/** Instance ids as EC2 has them (17 hex digits, or 8 for old ones); anything else is malformed. */
export function instanceIds(params: Ec2Params, name = "InstanceId", max = MAX_INSTANCE_IDS): string[] {
  const ids = list(params, name, { max });
  for (const id of ids) if (!wellFormed(id)) throw instanceIdMalformed(id);
  return ids;
}

/** The one InstanceId of an action on a single instance. */
function instanceIdParam(params: Ec2Params): string {
  const id = str(params, "InstanceId", { required: true });
  if (!wellFormed(id)) throw instanceIdMalformed(id);
  return id;
}

/** MaxResults, 5 to `max`, which EC2 does not allow together with instance ids. */
function maxResults(params: Ec2Params, ids: readonly string[], max = 1000): number | undefined {
  const n = int(params, "MaxResults", { min: 5, max });
  if (n !== undefined && ids.length > 0)
    throw invalidParameterCombination(
      "The parameter instancesSet cannot be used with the parameter maxResults",
    );
  return n;
}

/** The most instances one DescribeInstances without MaxResults answers before it gives a NextToken. */
const UNPAGED_LIMIT = 1000;

/** Instances a page after another from lifecycle, until `wanted` or the last page. */
async function describePages(
  request: Ec2Request,
  query: { ids?: string[] | undefined; filters: { name: string; values: string[] }[] },
  wanted: number,
  nextToken: string | undefined,
): Promise<{ items: Instance[]; nextToken: string | undefined }> {
  const items: Instance[] = [];
  let cursor = nextToken;
  do {
    const page = await request.bus.request(
      instances.describe,
      {
        ...visibility(request),
        ids: query.ids,
        filters: query.filters as never,
        limit: Math.min(MAX_DESCRIBE_PAGE, wanted - items.length),
        cursor,
      },
      requestContext(request),
    );
    items.push(...page.items);
    cursor = page.next_cursor ?? undefined;
  } while (cursor && items.length < wanted);
  return { items, nextToken: cursor };
}

const describeInstances: Ec2Action = async (request) => {
  const { params } = request;
  const ids = instanceIds(params);
  const given = filters(params);
  checkFilterNames(given, instanceFilterNames, true);
  const max = maxResults(params, ids);
  const nextToken = str(params, "NextToken", { max: 200 });
  unlessDryRun(request);
  const page = await describePages(
    request,
    { ids: ids.length ? ids : undefined, filters: given },
    max ?? UNPAGED_LIMIT,
    nextToken,
  );
  return { reservationSet: xmlList(reservationsXml(page.items)), nextToken: page.nextToken };
};

/** The launch's tags: TagSpecification.N with ResourceType instance (nothing else is modelled). */
function launchTags(params: Ec2Params): Record<string, string> {
  const tagged: Record<string, string> = {};
  for (const spec of structs(params, "TagSpecification", { max: 10 })) {
    const type = str(spec, "ResourceType", { required: true });
    if (type !== "instance")
      throw invalidParameterValue(
        `${spec.scope}.ResourceType`,
        type,
        "Only instance can be tagged here: cloudsim has no volumes, network interfaces or other resources.",
      );
    for (const tag of tags(spec, "Tag")) tagged[tag.key] = tag.value ?? "";
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
  const spec = {
    region: request.region,
    availability_zone: zone,
    type: type.data,
    image,
    key_name: str(params, "KeyName", { max: 255 }),
    tags: launchTags(params),
  };
  str(params, "UserData", { max: 21_848 }); // 16 KB once base64-decoded, as EC2 allows.
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
const stateChange =
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

function requiredIds(params: Ec2Params): string[] {
  const ids = instanceIds(params);
  if (ids.length === 0) throw invalidParameterCombination("No instances specified");
  return ids;
}

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

const statusFilterNames = [
  "availability-zone",
  "instance-state-name",
  "instance-state-code",
  "instance-status.status",
  "instance-status.reachability",
  "system-status.status",
  "system-status.reachability",
];

/** Running instances' status checks (all instances' with IncludeAllInstances). */
const describeInstanceStatus: Ec2Action = async (request) => {
  const { params } = request;
  const ids = instanceIds(params, "InstanceId", 100);
  const given = filters(params);
  checkFilterNames(given, statusFilterNames);
  const max = maxResults(params, ids);
  const nextToken = str(params, "NextToken", { max: 200 });
  const all = bool(params, "IncludeAllInstances") ?? false;
  unlessDryRun(request);
  // State and zone filters go to lifecycle; the checks' own are applied to what comes back.
  const passed = given.filter((f) =>
    ["availability-zone", "instance-state-name", "instance-state-code"].includes(f.name),
  );
  if (!all) passed.push({ name: "instance-state-name", values: ["running"] });
  const page = await describePages(
    request,
    { ids: ids.length ? ids : undefined, filters: passed },
    max ?? UNPAGED_LIMIT,
    nextToken,
  );
  const now = Date.now();
  const statuses = page.items
    .map((instance) => instanceStatusXml(instance, request.config.EC2_STATUS_CHECK_DELAY, now))
    .filter((status) =>
      matchesFilters(
        given.filter((f) => !passed.includes(f)),
        statusFields(status),
      ),
    );
  return { instanceStatusSet: xmlList(statuses), nextToken: page.nextToken };
};

/** A status item's values under the status filters' names. */
function statusFields(status: ReturnType<typeof instanceStatusXml>) {
  const of = (key: "instanceStatus" | "systemStatus") =>
    status[key] as { status: string; details: { items: readonly { status: string }[] } };
  return {
    "instance-status.status": of("instanceStatus").status,
    "instance-status.reachability": of("instanceStatus").details.items.map((d) => d.status),
    "system-status.status": of("systemStatus").status,
    "system-status.reachability": of("systemStatus").details.items.map((d) => d.status),
  };
}

/** EC2 answers the last 64 KB of the console. */
const CONSOLE_BYTES = 64 * 1024;

/** The server's log as console text, oldest line first, at most the last 64 KB, base64. */
const getConsoleOutput: Ec2Action = async (request) => {
  const instanceId = instanceIdParam(request.params);
  bool(request.params, "Latest");
  unlessDryRun(request);
  const ctx = requestContext(request);
  await request.bus.request(
    instances.describe,
    { ...visibility(request), ids: [instanceId], filters: [], limit: 1 },
    ctx,
  );
  const lines: string[] = [];
  let bytes = 0;
  let cursor: string | undefined;
  do {
    const page = await request.bus.request(
      lifecycle.logs,
      { id: instanceId, tenant_id: request.scope, limit: 100, cursor },
      ctx,
    );
    for (const entry of page.items) {
      const line = `[${entry.at}] ${entry.message}\n`;
      bytes += Buffer.byteLength(line);
      if (bytes > CONSOLE_BYTES) break;
      lines.push(line);
    }
    cursor = page.next_cursor ?? undefined;
  } while (cursor && bytes <= CONSOLE_BYTES);
  return {
    instanceId,
    timestamp: new Date().toISOString(),
    output: Buffer.from(lines.reverse().join("")).toString("base64"),
  };
};

/** ModifyInstanceAttribute: the instance type, while stopped (the one attribute cloudsim models). */
const modifyInstanceAttribute: Ec2Action = async (request) => {
  const { params } = request;
  const id = instanceIdParam(params);
  const attribute = str(params, "Attribute");
  const named = attribute === "instanceType" ? str(params, "Value") : str(params, "InstanceType.Value");
  const other = [...params.keys()].find(
    (key) => /^[A-Z][A-Za-z]*\.Value$|^GroupId\.\d+$/.test(key) && key !== "InstanceType.Value",
  );
  if ((attribute !== undefined && attribute !== "instanceType") || other)
    throw new Ec2Error(
      "InvalidParameterValue",
      `cloudsim can modify only the instanceType attribute, not ${attribute ?? other?.split(".")[0]}`,
    );
  if (named === undefined)
    throw new Ec2Error("MissingParameter", "The request must contain the parameter InstanceType.Value");
  const type = InstanceType.safeParse(named);
  if (!type.success)
    throw new Ec2Error("InvalidParameterValue", `Invalid value '${named.slice(0, 100)}' for InstanceType.`);
  unlessDryRun(request);
  await request.bus.request(
    instances.modify,
    { ...visibility(request), id, type: type.data },
    requestContext(request),
  );
  return { return: true };
};

export const instanceActions: Record<string, Ec2Action> = {
  RunInstances: runInstances,
  DescribeInstances: describeInstances,
  StartInstances: stateChange("start"),
  StopInstances: stateChange("stop"),
  TerminateInstances: stateChange("terminate"),
  RebootInstances: rebootInstances,
  DescribeInstanceStatus: describeInstanceStatus,
  GetConsoleOutput: getConsoleOutput,
  ModifyInstanceAttribute: modifyInstanceAttribute,
};
