/**
 * Postgres and NATS for a benchmark, the way the tests get them: DATABASE_URL / NATS_URL when
 * set, otherwise an embedded Postgres and a private nats-server; a fresh database per run.
 */
import { randomBytes } from "node:crypto";
import { createLogger, type Env } from "@cloudsim/shared";
import { createTestDatabase, startEmbeddedPostgres, startNatsServer } from "@cloudsim/shared/testing";

export async function benchInfra() {
  const stops: (() => Promise<void>)[] = [];
  let adminUrl = process.env.DATABASE_URL;
  if (!adminUrl) {
    const pg = await startEmbeddedPostgres();
    stops.push(pg.stop);
    adminUrl = pg.adminUrl;
  }
  let natsUrl = process.env.NATS_URL;
  if (!natsUrl) {
    const nats = await startNatsServer();
    stops.push(nats.stop);
    natsUrl = nats.url;
  }
  const database = await createTestDatabase(adminUrl);
  stops.unshift(database.drop);
  const env: Env = {
    DATABASE_URL: database.url,
    NATS_URL: natsUrl,
    NATS_SUBJECT_PREFIX: `bench${randomBytes(4).toString("hex")}.`,
    PORT: "0",
    LOG_LEVEL: "warn",
  };
  return {
    env,
    databaseUrl: database.url,
    log: createLogger("bench", "warn"),
    async stop() {
      for (const stop of stops) await stop();
    },
  };
}

export function printTable(rows: Record<string, string | number>[]) {
  console.table(rows);
}
