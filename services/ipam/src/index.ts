export { type IpamConfig, ipamConfig } from "./config.ts";
export { startIpam } from "./service.ts";
