import type { TestProject } from "vitest/node";
import { startInfrastructure } from "./infrastructure.ts";

declare module "vitest" {
  export interface ProvidedContext {
    postgresAdminUrl: string;
    natsUrl: string;
  }
}

/**
 * Postgres and NATS for the whole run (see startInfrastructure). Each test file then takes a
 * database and a subject prefix of its own, so files run in parallel without meeting.
 */
export default async function setup(project: TestProject) {
  const infrastructure = await startInfrastructure();
  project.provide("postgresAdminUrl", infrastructure.postgresAdminUrl);
  project.provide("natsUrl", infrastructure.natsUrl);
  return infrastructure.stop;
}
