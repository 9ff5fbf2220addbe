import { startNatsServer } from "./nats-server.ts";
import { startEmbeddedPostgres } from "./postgres.ts";

/**
 * Postgres and NATS for a test or bench run: DATABASE_URL and NATS_URL when set, otherwise an
 * embedded Postgres and a private nats-server, stopped by `stop`.
 */
export async function startInfrastructure(env: Record<string, string | undefined> = process.env) {
  const stops: (() => Promise<void>)[] = [];
  let postgresAdminUrl = env.DATABASE_URL;
  if (!postgresAdminUrl) {
    const pg = await startEmbeddedPostgres();
    stops.push(pg.stop);
    postgresAdminUrl = pg.adminUrl;
  }
  let natsUrl = env.NATS_URL;
  if (!natsUrl) {
    const nats = await startNatsServer();
    stops.push(nats.stop);
    natsUrl = nats.url;
  }
  return {
    postgresAdminUrl,
    natsUrl,
    async stop() {
      for (const stop of stops.reverse()) await stop();
    },
  };
}
