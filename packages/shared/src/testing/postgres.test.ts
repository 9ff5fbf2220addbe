import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { startEmbeddedPostgres } from "./postgres.ts";

const asRoot = process.getuid?.() === 0;

async function query(url: string, sql: string) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}

describe("startEmbeddedPostgres", () => {
  // Only root hands the server to the postgres OS user, who cannot enter root's private folders.
  it.skipIf(!asRoot)(
    "as root, keeps a cluster whose folder lies in a folder only root may enter, across restarts",
    async () => {
      // What `mktemp -d` makes, and what a clone in root's home is: a folder of mode 0700.
      const privateFolder = mkdtempSync(join(tmpdir(), "cloudsim-private-"));
      const requested = join(privateFolder, ".data", "postgres");
      let dataDir: string | undefined;
      try {
        const first = await startEmbeddedPostgres({ dataDir: requested });
        dataDir = first.dataDir;
        try {
          await query(first.adminUrl, "CREATE TABLE kept (n int); INSERT INTO kept VALUES (17)");
          const [settings] = await query(first.adminUrl, "SELECT current_setting('data_directory') AS dir");
          expect(settings.dir).toBe(first.dataDir);
        } finally {
          await first.stop();
        }
        const second = await startEmbeddedPostgres({ dataDir: requested });
        try {
          expect(second.dataDir).toBe(first.dataDir);
          expect(await query(second.adminUrl, "SELECT n FROM kept")).toEqual([{ n: 17 }]);
        } finally {
          await second.stop();
        }
      } finally {
        if (dataDir) rmSync(dataDir, { recursive: true, force: true });
        rmSync(privateFolder, { recursive: true, force: true });
      }
    },
  );
});
