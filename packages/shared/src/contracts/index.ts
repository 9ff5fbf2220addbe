export * from "./billing.ts";
export * from "./catalogue.ts";
export * from "./clock.ts";
export * from "./command.ts";
export * from "./elastic-ips.ts";
export * from "./instance-attributes.ts";
export * from "./instances.ts";
export * from "./ipam.ts";
export * from "./key-pairs.ts";
export * from "./nats-roles.ts";
export {
  describeRequest,
  MAX_NETWORK_IDS,
  MAX_NETWORK_PAGE,
  type NetworkErrorReason,
  NetworkFilter,
  NetworkId,
  networkErrorReasons,
  networkOwner,
  networkScope,
  networkTags,
} from "./network-resources.ts";
export { pageLimit } from "./paging.ts";
export * from "./reaper.ts";
export * from "./resource-tags.ts";
export * from "./security-groups.ts";
export * from "./servers.ts";
export * from "./stream-events.ts";
export * from "./subnets.ts";
export * from "./tenants.ts";
export * from "./volume-types.ts";
export * from "./volumes.ts";
export * from "./vpcs.ts";
