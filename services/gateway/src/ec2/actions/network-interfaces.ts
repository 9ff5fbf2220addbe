import { AppError, instances, MAX_DESCRIBE_PAGE } from "@cloudsim/shared";
import { type Ec2Action, requestContext, unlessDryRun, visibility } from "../context.ts";
import { Ec2Error } from "../errors.ts";
import { checkFilterNames, matchesFilters } from "../filters.ts";
import {
  hasInterface,
  instanceIdOfInterface,
  networkInterfaceIdOf,
  networkInterfaceXml,
} from "../network-interfaces.ts";
import { type Filter, filters, int, str } from "../query.ts";
import { xmlList } from "../xml.ts";
import { idList } from "./network-params.ts";
import { publicAddressesOf } from "./public-addresses.ts";

/** The filters on an interface that are its instance's, by the name DescribeInstances gives them. */
const instanceFilters: Record<string, string> = {
  "network-interface-id": "instance-id",
  "attachment.instance-id": "instance-id",
  "subnet-id": "subnet-id",
  "vpc-id": "vpc-id",
  "private-ip-address": "private-ip-address",
  "addresses.private-ip-address": "private-ip-address",
  "group-id": "group-id",
  "availability-zone": "availability-zone",
};
/** The filters read from the interface as shown (its public association, which ipam knows). */
const shownFilters = ["association.public-ip", "attachment.device-index", "status"];

/** An instance's states while it has its interface. */
const withInterface = ["pending", "running", "stopping", "stopped", "shutting-down"];

const asInstanceFilter = ({ name, values }: Filter): Filter => ({
  name: instanceFilters[name] as string,
  values:
    name === "network-interface-id"
      ? values.map((v) => (v.startsWith("eni-") ? `i-${v.slice(4)}` : v))
      : values,
});

/** The instances' primary interfaces (cloudsim has no others), a page of instances at a time. */
const describeNetworkInterfaces: Ec2Action = async (request) => {
  const { params } = request;
  const interfaceIds = idList(params, "NetworkInterfaceId", "interface");
  const given = filters(params);
  checkFilterNames(given, [...Object.keys(instanceFilters), ...shownFilters]);
  const limit = int(params, "MaxResults", { min: 5, max: MAX_DESCRIBE_PAGE }) ?? MAX_DESCRIBE_PAGE;
  const cursor = str(params, "NextToken", { max: 200 });
  unlessDryRun(request);
  const ids = interfaceIds.map(instanceIdOfInterface);
  const page = await request.bus
    .request(
      instances.describe,
      {
        ...visibility(request),
        ids: ids.length ? ids : undefined,
        filters: [
          ...given.filter((f) => f.name in instanceFilters).map(asInstanceFilter),
          { name: "instance-state-name", values: withInterface },
        ] as never,
        limit,
        cursor,
      },
      requestContext(request),
    )
    .catch((err: unknown) => {
      if (ids.length && err instanceof AppError && err.code === "NOT_FOUND")
        throw new Ec2Error(
          "InvalidNetworkInterfaceID.NotFound",
          `The networkInterface IDs '${interfaceIds.join(", ")}' do not exist`,
        );
      throw err;
    });
  const live = page.items.filter(hasInterface);
  const missing = ids.find((id) => !live.some((instance) => instance.instance_id === id));
  if (missing !== undefined)
    throw new Ec2Error(
      "InvalidNetworkInterfaceID.NotFound",
      `The networkInterface ID '${networkInterfaceIdOf(missing)}' does not exist`,
    );
  const addresses = await publicAddressesOf(request, live);
  const shown = given.filter((f) => shownFilters.includes(f.name));
  const items = live.filter((instance) =>
    matchesFilters(shown, {
      "association.public-ip": addresses.get(instance.id)?.public_ip,
      "attachment.device-index": "0",
      status: "in-use",
    }),
  );
  return {
    networkInterfaceSet: xmlList(
      items.map((instance) => networkInterfaceXml(instance, addresses.get(instance.id), true)),
    ),
    nextToken: page.next_cursor,
  };
};

export const networkInterfaceActions: Record<string, Ec2Action> = {
  DescribeNetworkInterfaces: describeNetworkInterfaces,
};
