import { AppError, type Instance, type InstanceFilter, instances, MAX_DESCRIBE_PAGE } from "@cloudsim/shared";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { busContext, type ComputeEndpoint, ownerOf, scopeOf } from "../compute/context.ts";
import { hiddenRoute } from "../context.ts";
import { NeutronError, portNotFound } from "./errors.ts";
import { filtersOf, listBody, pageOf } from "./listing.ts";
import { portBody } from "./views.ts";

/** A server's instance id from its UUID, a port's from its eni- id (the same hex digits). */
const instanceIdOfServer = (uuid: string) => `i-${uuid.replaceAll("-", "").slice(-17)}`;
const instanceIdOfPort = (portId: string) => (portId.startsWith("eni-") ? `i-${portId.slice(4)}` : portId);

/** Servers that have not ended: a terminated one has given its address and port back. */
const LIVE_STATES: InstanceFilter = {
  name: "instance-state-name",
  values: ["pending", "running", "stopping", "stopped", "shutting-down"],
};

/** `fixed_ips=ip_address=…` or `fixed_ips=subnet_id=…`, as the CLI sends a port's address. */
function fixedIpFilter(values: string[]) {
  const [field, value] = (values[0] ?? "").split("=", 2);
  if (field === "ip_address" && value) return { name: "private-ip-address", values: [value] };
  if (field === "subnet_id" && value) return { name: "subnet-id", values: [value] };
  throw new NeutronError(400, "BadRequest", "fixed_ips filters are ip_address=<address> or subnet_id=<id>");
}

/** Neutron's port filters as the EC2 instance filters lifecycle applies. */
const portFilters = {
  id: (values: string[]) => ({ name: "instance-id", values: values.map(instanceIdOfPort) }),
  device_id: (values: string[]) => ({ name: "instance-id", values: values.map(instanceIdOfServer) }),
  network_id: "vpc-id",
  fixed_ips: fixedIpFilter,
  device_owner: "",
  mac_address: "",
  name: "",
};

/** A page of the caller's live instances, as lifecycle's describe reads them; unknown ids match nothing. */
export async function describeLive(
  endpoint: ComputeEndpoint,
  request: FastifyRequest,
  filters: InstanceFilter[],
  page: { limit: number; cursor?: string | undefined },
) {
  return endpoint.bus
    .request(
      instances.describe,
      {
        tenant_id: scopeOf(request),
        region: endpoint.region,
        visible_after: new Date(0).toISOString(),
        filters: [LIVE_STATES, ...filters],
        ...page,
      },
      busContext(request),
    )
    .catch((err: unknown) => {
      if (err instanceof AppError && err.code === "NOT_FOUND")
        return { items: [] as Instance[], next_cursor: null };
      throw err;
    });
}

/** The port a floating IP names: the live instance behind it. */
export async function instanceOfPort(endpoint: ComputeEndpoint, request: FastifyRequest, portId: string) {
  const page = await describeLive(
    endpoint,
    request,
    [{ name: "instance-id", values: [instanceIdOfPort(portId)] }],
    {
      limit: 5,
    },
  );
  const instance = page.items[0];
  if (!instance?.private_ip_address) throw portNotFound(portId);
  return instance;
}

/** /v2.0/ports: each live server's one port (read only: a port is made and removed with its server). */
export function portRoutes(app: FastifyInstance, endpoint: ComputeEndpoint) {
  app.get("/v2.0/ports", hiddenRoute, async (request) => {
    const query = filtersOf(request, portFilters);
    if (!query) return { ports: [] };
    const { device_owner: owner, name } = query.wanted;
    // Every port is a server's (compute:<zone>) and has no name.
    if ((owner && !owner.some((o) => o.startsWith("compute:"))) || (name && !name.includes("")))
      return { ports: [] };
    const page = await describeLive(
      endpoint,
      request,
      query.filters as InstanceFilter[],
      pageOf(endpoint, request, MAX_DESCRIBE_PAGE),
    );
    const mac = query.wanted.mac_address;
    const items = page.items
      .filter((instance) => instance.private_ip_address)
      .map((instance) => portBody(instance, ownerOf(request)))
      .filter((port) => !mac || mac.includes(port.mac_address));
    return listBody(endpoint, request, "ports", { items, next_cursor: page.next_cursor });
  });

  app.get<{ Params: { id: string } }>("/v2.0/ports/:id", hiddenRoute, async (request) => ({
    port: portBody(await instanceOfPort(endpoint, request, request.params.id), ownerOf(request)),
  }));

  const readOnly = async () => {
    throw new NeutronError(
      400,
      "BadRequest",
      "cloudsim makes a server's one port with the server and removes it with it: boot a server on the network instead.",
    );
  };
  app.post("/v2.0/ports", hiddenRoute, readOnly);
  app.put("/v2.0/ports/:id", hiddenRoute, readOnly);
  app.delete("/v2.0/ports/:id", hiddenRoute, readOnly);
}
