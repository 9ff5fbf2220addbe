import { runServices } from "@cloudsim/shared";
import { serviceEnv, serviceNames, services } from "./services.ts";

// The whole system in this process: each service with its own configuration (services.ts).
await runServices(serviceNames.map((name) => ({ ...services[name], env: serviceEnv(process.env, name) })));
