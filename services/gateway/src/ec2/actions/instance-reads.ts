import { clockDate, instanceFilterNames, instances, lifecycle, MAX_DESCRIBE_PAGE } from "@cloudsim/shared";
import { type Ec2Action, type Ec2Request, requestContext, unlessDryRun, visibility } from "../context.ts";
import { checkFilterNames, matchesFilters } from "../filters.ts";
import { collectPages } from "../pages.ts";
import { bool, filters, str } from "../query.ts";
import { instanceStatusXml, reservationsXml } from "../render.ts";
import { xmlList } from "../xml.ts";
import { instanceIdParam, instanceIds, maxResults } from "./instance-params.ts";
import { publicAddressesOf } from "./public-addresses.ts";

/** The most instances one DescribeInstances without MaxResults answers before it gives a NextToken. */
const UNPAGED_LIMIT = 1000;

/** Instances a page after another from lifecycle, until `wanted` or the last page. */
const describePages = (
  request: Ec2Request,
  query: { ids?: string[] | undefined; filters: { name: string; values: string[] }[] },
  wanted: number,
  nextToken: string | undefined,
) =>
  collectPages(
    (limit, cursor) =>
      request.bus.request(
        instances.describe,
        { ...visibility(request), ids: query.ids, filters: query.filters as never, limit, cursor },
        requestContext(request),
      ),
    { pageSize: MAX_DESCRIBE_PAGE, wanted, cursor: nextToken },
  );

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
  const addresses = await publicAddressesOf(request, page.items);
  return { reservationSet: xmlList(reservationsXml(page.items, addresses)), nextToken: page.nextToken };
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
  const now = request.clock.now();
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
    timestamp: clockDate(request.clock).toISOString(),
    output: Buffer.from(lines.reverse().join("")).toString("base64"),
  };
};

/** The actions that read instances: descriptions, status checks and console output. */
export const instanceReadActions: Record<string, Ec2Action> = {
  DescribeInstances: describeInstances,
  DescribeInstanceStatus: describeInstanceStatus,
  GetConsoleOutput: getConsoleOutput,
};
