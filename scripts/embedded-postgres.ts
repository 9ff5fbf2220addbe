/**
 * Runs the embedded Postgres for scripts/run.ts in a process of its own, so the launcher
 * decides when it stops (after the services). It reports its URL and data folder over IPC and
 * stops when told to, or when the launcher goes away.
 */
import { ensureDatabase, localPostgresSettings, startEmbeddedPostgres } from "@cloudsim/shared/testing";

const [dataDir, port, database] = process.argv.slice(2);
if (!dataDir || !port || !database || !process.send) {
  process.stderr.write(
    "usage: run by scripts/run.ts with IPC: embedded-postgres.ts DATA_DIR PORT DATABASE\n",
  );
  process.exit(2);
}
const server = await startEmbeddedPostgres({ dataDir, port: Number(port), settings: localPostgresSettings });
const url = await ensureDatabase(server.adminUrl, database);
process.send({ url, dataDir: server.dataDir });

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await server.stop();
  process.exit(0);
};
process.on("disconnect", stop);
process.on("message", (message) => {
  if (message === "stop") void stop();
});
