export { type ServiceName, serviceEnv, serviceNames, services } from "./services.ts";
