/**
 * Postgres and NATS for a benchmark, the way the tests get them (startInfrastructure), and a
 * fresh database and subject prefix per run.
 */
import { randomBytes } from "node:crypto";
import { createLogger, type Env } from "@cloudsim/shared";
import { createTestDatabase, startInfrastructure } from "@cloudsim/shared/testing";

export async function benchInfra() {
  const infrastructure = await startInfrastructure();
  const database = await createTestDatabase(infrastructure.postgresAdminUrl);
  const env: Env = {
    DATABASE_URL: database.url,
    NATS_URL: infrastructure.natsUrl,
    NATS_SUBJECT_PREFIX: `bench${randomBytes(4).toString("hex")}.`,
    PORT: "0",
    LOG_LEVEL: "warn",
  };
  return {
    env,
    databaseUrl: database.url,
    log: createLogger("bench", "warn"),
    async stop() {
      await database.drop();
      await infrastructure.stop();
    },
  };
}
