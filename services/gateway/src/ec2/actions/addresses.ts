import {
  elasticIpFilterNames,
  elasticIps,
  type Instance,
  instances,
  MAX_NETWORK_PAGE,
} from "@cloudsim/shared";
import { type Ec2Action, type Ec2Request, requestContext, unlessDryRun, visibility } from "../context.ts";
import {
  Ec2Error,
  incorrectInstanceState,
  invalidParameterCombination,
  missingParameter,
} from "../errors.ts";
import { hasInterface, instanceIdOfInterface, networkInterfaceIdOf } from "../network-interfaces.ts";
import { addressXml } from "../network-render.ts";
import { collectAll } from "../pages.ts";
import { bool, list, str } from "../query.ts";
import { xmlList } from "../xml.ts";
import { instanceIdParam } from "./instance-params.ts";
import { checkId, describeParams, idList, networkOwner, networkScope, specTags } from "./network-params.ts";

/** The most addresses one DescribeAddresses answers (it has no paging in EC2): far above EC2's quota. */
const MAX_ADDRESSES = 5000;

/** AllocationId or PublicIp: the address an action names. */
function addressRef(request: Ec2Request) {
  const allocationId = str(request.params, "AllocationId", { max: 64 });
  const publicIp = str(request.params, "PublicIp", { max: 64 });
  if (allocationId === undefined && publicIp === undefined) throw missingParameter("AllocationId");
  return {
    allocation_id: allocationId === undefined ? undefined : checkId("allocation", allocationId),
    public_ip: publicIp,
  };
}

const allocateAddress: Ec2Action = async (request) => {
  const domain = str(request.params, "Domain", { max: 16 }) ?? "vpc";
  if (domain !== "vpc")
    throw new Ec2Error(
      "InvalidParameterValue",
      `cloudsim's Elastic IPs are in the vpc domain, not ${domain}`,
    );
  const tags = specTags(request.params, "elastic-ip");
  unlessDryRun(request);
  const address = await request.bus.request(
    elasticIps.allocate,
    { ...networkOwner(request), tags },
    requestContext(request),
  );
  return {
    publicIp: address.public_ip,
    allocationId: address.allocation_id,
    domain: "vpc",
    publicIpv4Pool: "amazon",
    networkBorderGroup: request.region,
  };
};

/** The instance an association names, by InstanceId or by its interface's id; it must have its interface. */
async function targetInstance(request: Ec2Request): Promise<Instance> {
  const { params } = request;
  const interfaceId = str(params, "NetworkInterfaceId", { max: 64 });
  if (interfaceId !== undefined && params.has("InstanceId"))
    throw invalidParameterCombination("Only one of InstanceId and NetworkInterfaceId may be given");
  const instanceId =
    interfaceId === undefined
      ? instanceIdParam(params)
      : instanceIdOfInterface(checkId("interface", interfaceId));
  const { items } = await request.bus
    .request(
      instances.describe,
      { ...visibility(request), ids: [instanceId], filters: [], limit: 1 },
      requestContext(request),
    )
    .catch((err: unknown) => {
      if (interfaceId !== undefined)
        throw new Ec2Error(
          "InvalidNetworkInterfaceID.NotFound",
          `The networkInterface ID '${interfaceId}' does not exist`,
        );
      throw err;
    });
  const instance = items[0];
  if (!instance || !hasInterface(instance))
    throw incorrectInstanceState(`The instance '${instanceId}' is not in a valid state for this operation.`);
  return instance;
}

const associateAddress: Ec2Action = async (request) => {
  const ref = addressRef(request);
  const instance = await targetInstance(request);
  const privateIp = str(request.params, "PrivateIpAddress", { max: 64 });
  if (privateIp !== undefined && privateIp !== instance.private_ip_address)
    throw new Ec2Error(
      "InvalidParameterValue",
      `The instance's interface has one private address, ${instance.private_ip_address}`,
    );
  const allowReassociation = bool(request.params, "AllowReassociation") ?? false;
  unlessDryRun(request);
  const { association_id } = await request.bus.request(
    elasticIps.associate,
    {
      ...networkScope(request),
      ...ref,
      server_id: instance.id,
      instance_id: instance.instance_id,
      network_interface_id: networkInterfaceIdOf(instance.instance_id),
      private_ip_address: instance.private_ip_address ?? "",
      allow_reassociation: allowReassociation,
    },
    requestContext(request),
  );
  return { return: true, associationId: association_id };
};

const disassociateAddress: Ec2Action = async (request) => {
  const associationId = str(request.params, "AssociationId", { max: 64 });
  const publicIp = str(request.params, "PublicIp", { max: 64 });
  if (associationId === undefined && publicIp === undefined) throw missingParameter("AssociationId");
  unlessDryRun(request);
  await request.bus.request(
    elasticIps.disassociate,
    {
      ...networkScope(request),
      association_id: associationId === undefined ? undefined : checkId("association", associationId),
      public_ip: publicIp,
    },
    requestContext(request),
  );
  return { return: true };
};

const releaseAddress: Ec2Action = async (request) => {
  const ref = addressRef(request);
  unlessDryRun(request);
  await request.bus.request(
    elasticIps.release,
    { ...networkScope(request), ...ref },
    requestContext(request),
  );
  return { return: true };
};

/** Every address the filters pass (EC2 does not page DescribeAddresses), a thousand a request. */
const describeAddresses: Ec2Action = async (request) => {
  const ids = idList(request.params, "AllocationId", "allocation");
  const ips = list(request.params, "PublicIp", { max: 100 });
  const { filters } = describeParams(request.params, elasticIpFilterNames);
  unlessDryRun(request);
  const items = await collectAll(
    (limit, cursor) =>
      request.bus.request(
        elasticIps.describe,
        {
          ...networkScope(request),
          ids: ids.length ? ids : undefined,
          public_ips: ips.length ? ips : undefined,
          filters,
          limit,
          cursor,
        },
        requestContext(request),
      ),
    MAX_NETWORK_PAGE,
    MAX_ADDRESSES,
    "addresses",
  );
  return { addressesSet: xmlList(items.map(addressXml)) };
};

export const addressActions: Record<string, Ec2Action> = {
  AllocateAddress: allocateAddress,
  AssociateAddress: associateAddress,
  DisassociateAddress: disassociateAddress,
  ReleaseAddress: releaseAddress,
  DescribeAddresses: describeAddresses,
};
