/**
 * Postgres and NATS for a benchmark, the way the tests get them (startInfrastructure), and a
 * fresh database and subject prefix per run.
 */
import { randomBytes } from "node:crypto";
import { createLogger, type Env } from "@cloudsim/shared";
import { createTestDatabase, localPostgresSettings, startInfrastructure } from "@cloudsim/shared/testing";

export async function benchInfra() {
  // Postgres as `make run` starts it, when the bench starts one.
  const infrastructure = await startInfrastructure(process.env, "env", localPostgresSettings);
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
