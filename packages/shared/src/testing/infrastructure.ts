import { startNatsServer } from "./nats-server.ts";
import { startEmbeddedPostgres } from "./postgres.ts";

/**
 * Postgres and NATS for a test or bench run, stopped by `stop`: DATABASE_URL when set, otherwise
 * an embedded Postgres; NATS_URL when set and `nats` is "env" (a bench), otherwise a private
 * nats-server with the services' users and permissions. The tests always take the private one,
 * so the permissions they pass under are the ones Compose and `make run` deploy.
 */
export async function startInfrastructure(
  env: Record<string, string | undefined> = process.env,
  nats: "private" | "env" = "env",
  /** The embedded Postgres' settings (`-c name=value`), when one is started. */
  postgresSettings: Record<string, string> = {},
) {
  const stops: (() => Promise<void>)[] = [];
  let postgresAdminUrl = env.DATABASE_URL;
  if (!postgresAdminUrl) {
    const pg = await startEmbeddedPostgres({ settings: postgresSettings });
    stops.push(pg.stop);
    postgresAdminUrl = pg.adminUrl;
  }
  let natsUrl = nats === "env" ? env.NATS_URL : undefined;
  /** The private server's monitoring endpoint (none for NATS_URL's). */
  let natsMonitorUrl: string | undefined;
  if (!natsUrl) {
    const server = await startNatsServer();
    stops.push(server.stop);
    natsUrl = server.url;
    natsMonitorUrl = server.monitorUrl;
  }
  return {
    postgresAdminUrl,
    natsUrl,
    natsMonitorUrl,
    async stop() {
      for (const stop of stops.reverse()) await stop();
    },
  };
}
