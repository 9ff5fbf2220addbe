import type { TestProject } from "vitest/node";
import { startInfrastructure } from "./infrastructure.ts";

declare module "vitest" {
  export interface ProvidedContext {
    postgresAdminUrl: string;
    /** A private nats-server with the services' users and permissions; a client without credentials is unrestricted. */
    natsUrl: string;
    natsMonitorUrl: string;
  }
}

/**
 * Postgres and NATS for the whole run (see startInfrastructure). Each test file then takes a
 * database and a subject prefix of its own, so files run in parallel without meeting.
 */
export default async function setup(project: TestProject) {
  const infrastructure = await startInfrastructure(process.env, "private");
  project.provide("postgresAdminUrl", infrastructure.postgresAdminUrl);
  project.provide("natsUrl", infrastructure.natsUrl);
  project.provide("natsMonitorUrl", infrastructure.natsMonitorUrl ?? "");
  return infrastructure.stop;
}
