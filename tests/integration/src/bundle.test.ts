import { execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify, stripVTControlCharacters } from "node:util";
import { freePort, localNatsUser, workspaceRoot } from "@cloudsim/shared/testing";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { eventually } from "./harness.ts";

/**
 * The bundle of `pnpm build` as the image runs it (`node --import ./dist/tracing.js
 * dist/main.js`), with stdout on a terminal: `docker run -it`, `tty: true`, `pnpm bench` from a
 * shell. `script` gives it a pseudo-terminal.
 */
describe("a service's bundle", () => {
  let folder: string;
  let bundle: string;

  beforeAll(async () => {
    folder = mkdtempSync(join(tmpdir(), "cloudsim-bundle-"));
    await promisify(execFile)(
      process.execPath,
      ["--import", "tsx", "scripts/build.ts", "--outdir", folder, "gateway"],
      { cwd: workspaceRoot },
    );
    bundle = join(folder, "gateway");
    // What the bundle keeps out (pg, @fastify/swagger-ui, the preload's loader hook), as
    // `pnpm deploy` puts it beside the bundle in the image.
    symlinkSync(join(workspaceRoot, "services/gateway/node_modules"), join(bundle, "node_modules"));
  });
  afterAll(() => rmSync(folder, { recursive: true, force: true }));

  it("starts with stdout on a terminal, and logs there in pino-pretty's lines", async () => {
    const port = await freePort();
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      // Pretty is what a terminal gets unless this says otherwise.
      LOG_PRETTY: undefined,
      NATS_URL: inject("natsUrl"),
      ...localNatsUser("gateway"),
      NATS_SUBJECT_PREFIX: `t${randomBytes(5).toString("hex")}.`,
      PORT: String(port),
      LOG_LEVEL: "info",
    };
    const command = `${process.execPath} --import ./tracing.js main.js`;
    const child = spawn("script", ["--quiet", "--return", "--command", command, "/dev/null"], {
      cwd: bundle,
      env,
      stdio: ["pipe", "pipe", "pipe"],
    });
    let output = "";
    for (const stream of [child.stdout, child.stderr]) stream.on("data", (d) => (output += String(d)));
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    const lines = () => stripVTControlCharacters(output).split(/\r?\n/);
    try {
      await eventually(
        async () => {
          if (child.exitCode !== null)
            throw new Error(`the bundle exited with code ${child.exitCode}:\n${lines().join("\n")}`);
          const healthy = await fetch(`http://127.0.0.1:${port}/healthz`).then(
            (r) => r.ok,
            () => false,
          );
          return healthy || undefined;
        },
        20_000,
        "/healthz of the bundle",
      );
      const started = await eventually(
        async () => lines().find((line) => line.includes("gateway started")),
        5_000,
        "the line saying the gateway started",
      );
      // pino-pretty's shape, where JSON would be {"level":"info",…}.
      expect(started).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: gateway started/);
    } finally {
      child.kill("SIGTERM");
      await exited;
    }
  });
});
