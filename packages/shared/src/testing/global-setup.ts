import type { TestProject } from "vitest/node";
import { startNatsServer } from "./nats-server.ts";
import { startEmbeddedPostgres } from "./postgres.ts";

declare module "vitest" {
  export interface ProvidedContext {
    postgresAdminUrl: string;
    natsUrl: string;
  }
}

/**
 * Postgres and NATS for the whole run: DATABASE_URL and NATS_URL when set, otherwise an
 * embedded Postgres and a private nats-server. Each test file then takes a database and a
 * subject prefix of its own, so files run in parallel without meeting.
 */
export default async function setup(project: TestProject) {
  const stops: (() => Promise<void>)[] = [];
  let postgresAdminUrl = process.env.DATABASE_URL;
  if (!postgresAdminUrl) {
    const pg = await startEmbeddedPostgres();
    stops.push(pg.stop);
    postgresAdminUrl = pg.adminUrl;
  }
  let natsUrl = process.env.NATS_URL;
  if (!natsUrl) {
    const nats = await startNatsServer();
    stops.push(nats.stop);
    natsUrl = nats.url;
  }
  project.provide("postgresAdminUrl", postgresAdminUrl);
  project.provide("natsUrl", natsUrl);
  return async () => {
    for (const stop of stops.reverse()) await stop();
  };
}
