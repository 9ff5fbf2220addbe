import { createHash } from "node:crypto";
import { type InstanceTypeName, instanceTypes, type Server } from "@cloudsim/shared";
import { imageUuidOf } from "./images.ts";
import { MAX_VERSION, MIN_VERSION } from "./microversion.ts";
import { novaStates } from "./states.ts";

/** The network every server's address is on, as `addresses` names it. */
export const NETWORK_NAME = "private";

/** Where a compute endpoint's URLs point: its versioned base (…/v2.1) and the unversioned one. */
export interface ComputeUrls {
  /** e.g. http://h/compute/us-east-1/v2.1 */
  versioned: string;
  /** e.g. http://h/compute/us-east-1 */
  root: string;
}

const links = (urls: ComputeUrls, kind: string, id: string) => [
  { rel: "self", href: `${urls.versioned}/${kind}/${id}` },
  { rel: "bookmark", href: `${urls.root}/${kind}/${id}` },
];

/** Nova's times: seconds and a Z. */
export const novaTime = (iso: string) => iso.replace(/\.\d+Z$/, "Z");
/** The launched_at style: no zone, microseconds. */
const usageTime = (iso: string) => iso.replace(/Z$/, "").replace(/\.(\d{3})$/, ".$1000");

export function computeVersion(urls: ComputeUrls) {
  return {
    id: "v2.1",
    status: "CURRENT",
    version: MAX_VERSION,
    min_version: MIN_VERSION,
    updated: "2013-07-23T11:33:21Z",
    links: [{ rel: "self", href: `${urls.versioned}/` }],
    "media-types": [{ base: "application/json", type: "application/vnd.openstack.compute+json;version=2.1" }],
  };
}

export function computeVersions(urls: ComputeUrls) {
  return {
    versions: [
      {
        id: "v2.0",
        status: "SUPPORTED",
        version: "",
        min_version: "",
        updated: "2011-01-21T11:33:21Z",
        links: [{ rel: "self", href: `${urls.root}/v2/` }],
      },
      computeVersion(urls),
    ],
  };
}

/** A flavor (an instance type; its id is its name). */
export function flavorBody(name: InstanceTypeName, urls: ComputeUrls, minor: number) {
  const type = instanceTypes[name];
  return {
    id: name,
    name,
    ram: type.memory_mib,
    vcpus: type.vcpus,
    disk: 0,
    "OS-FLV-EXT-DATA:ephemeral": 0,
    "OS-FLV-DISABLED:disabled": false,
    "os-flavor-access:is_public": true,
    swap: "",
    rxtx_factor: 1.0,
    links: links(urls, "flavors", name),
    ...(minor >= 55 && { description: null }),
  };
}

/** What a server body needs beyond the server: who asks, at which version, under which URLs. */
export interface ServerView {
  urls: ComputeUrls;
  minor: number;
  /** The project (tenant) the server belongs to, as the caller knows it. */
  tenantId: string;
  /** Its network's name (left out: "private") and its floating IP, by VPC and by server id. */
  networks?: { names: Map<string, string>; floating: Map<string, string> };
}

/** A server's addresses, keyed by its network's name: its fixed IP, and a floating IP when it has one. */
function addressesOf(server: Server, view: ServerView) {
  if (!server.ip_address) return {};
  const mac = macOf(server.id);
  const address = (addr: string, type: "fixed" | "floating") => ({
    addr,
    version: 4,
    "OS-EXT-IPS:type": type,
    "OS-EXT-IPS-MAC:mac_addr": mac,
  });
  const floating = view.networks?.floating.get(server.id);
  const name = view.networks?.names.get(server.vpc_id) ?? NETWORK_NAME;
  return {
    [name]: [address(server.ip_address, "fixed"), ...(floating ? [address(floating, "floating")] : [])],
  };
}

/** The short form of GET /servers: id, name and links. */
export const serverSummary = (server: Server, view: ServerView) => ({
  id: server.id,
  name: server.name,
  links: links(view.urls, "servers", server.id),
});

/** A server as Nova's GET /servers/{id} shows it at `view.minor` (NOVA.md §2). */
export function serverBody(server: Server, view: ServerView) {
  const state = novaStates[server.state];
  const type = instanceTypes[server.type];
  const imageId = imageUuidOf(server.image);
  const flavor =
    view.minor >= 47
      ? {
          vcpus: type.vcpus,
          ram: type.memory_mib,
          disk: 0,
          ephemeral: 0,
          swap: 0,
          original_name: server.type,
          extra_specs: {},
        }
      : { id: server.type, links: [{ rel: "bookmark", href: `${view.urls.root}/flavors/${server.type}` }] };
  const launched =
    server.running_since ??
    (server.state === "provisioning" || server.state === "error" ? null : server.updated_at);
  return {
    id: server.id,
    name: server.name,
    status: state.status,
    tenant_id: view.tenantId,
    user_id: view.tenantId,
    metadata: { ...server.tags },
    hostId: createHash("sha224").update(`${view.tenantId}:${server.availability_zone}`).digest("hex"),
    image: { id: imageId, links: [{ rel: "bookmark", href: `${view.urls.root}/images/${imageId}` }] },
    flavor,
    created: novaTime(server.created_at),
    updated: novaTime(server.updated_at),
    addresses: addressesOf(server, view),
    accessIPv4: "",
    accessIPv6: "",
    links: links(view.urls, "servers", server.id),
    key_name: server.key_name,
    progress: 0,
    config_drive: "",
    security_groups: server.security_groups.map((g) => ({ name: g.name })),
    "OS-DCF:diskConfig": "AUTO",
    "OS-EXT-AZ:availability_zone": server.availability_zone,
    "OS-EXT-STS:vm_state": state.vm_state,
    "OS-EXT-STS:task_state": state.task_state,
    "OS-EXT-STS:power_state": state.power_state,
    "OS-SRV-USG:launched_at": launched ? usageTime(launched) : null,
    "OS-SRV-USG:terminated_at": server.state === "terminated" ? usageTime(server.updated_at) : null,
    "os-extended-volumes:volumes_attached": [],
    ...(view.minor >= 9 && { locked: false }),
    ...(view.minor >= 19 && { description: null }),
    ...(view.minor >= 26 && { tags: server.labels }),
  };
}

/** A stable MAC address for the server's one port: fa:16:3e (OpenStack's prefix) and 3 bytes of its id. */
export function macOf(id: string): string {
  const hex = id.replaceAll("-", "").slice(-6);
  return `fa:16:3e:${hex.slice(0, 2)}:${hex.slice(2, 4)}:${hex.slice(4, 6)}`;
}
