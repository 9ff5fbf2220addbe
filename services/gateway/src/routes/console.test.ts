import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Fastify from "fastify";
import { afterAll, describe, expect, it } from "vitest";
import { installErrorHandlers } from "../errors.ts";
import { consoleRoutes, isConsolePath } from "./console.ts";

const parent = mkdtempSync(join(tmpdir(), "console-"));
const built = join(parent, "dist");
mkdirSync(built);
mkdirSync(join(built, "assets"));
writeFileSync(join(built, "index.html"), "<!doctype html><title>console</title>");
writeFileSync(join(built, "assets/index-abc123.js"), "console.log(1)");
// A file beside the console's folder, which no URL may reach.
writeFileSync(join(built, "../outside.txt"), "not the console's");
afterAll(() => rmSync(parent, { recursive: true, force: true }));

async function appWith(folder: string | null) {
  const app = Fastify();
  installErrorHandlers(app);
  await app.register(consoleRoutes(() => folder));
  return app;
}

describe("the console's routes", () => {
  it("serve index.html uncached at /console and /console/, hashed assets for a year", async () => {
    const app = await appWith(built);
    for (const url of ["/console", "/console/"]) {
      const res = await app.inject({ url });
      expect(res.statusCode).toBe(200);
      expect(res.headers["content-type"]).toBe("text/html; charset=utf-8");
      expect(res.headers["cache-control"]).toBe("no-cache");
      expect(res.headers["content-security-policy"]).toContain("frame-ancestors 'none'");
    }
    const asset = await app.inject({ url: "/console/assets/index-abc123.js" });
    expect(asset.statusCode).toBe(200);
    expect(asset.headers["content-type"]).toBe("text/javascript; charset=utf-8");
    expect(asset.headers["cache-control"]).toBe("public, max-age=31536000, immutable");
    expect(asset.body).toBe("console.log(1)");
  });

  it("answer 404 for a file it does not have, or one outside its folder", async () => {
    const app = await appWith(built);
    for (const url of [
      "/console/assets/none.js",
      "/console/../outside.txt",
      "/console/%2e%2e/outside.txt",
      "/console/..%2foutside.txt",
    ]) {
      const res = await app.inject({ url });
      expect(res.statusCode).toBe(404);
      expect(res.body).not.toContain("not the console's");
    }
  });

  it("answer 503 problem+json saying how to build it when it was not built", async () => {
    const res = await (await appWith(null)).inject({ url: "/console" });
    expect(res.statusCode).toBe(503);
    expect(res.headers["content-type"]).toMatch(/^application\/problem\+json/);
    expect(res.json()).toMatchObject({ code: "UNAVAILABLE", reason: "console_not_built" });
    expect(res.json().detail).toContain("pnpm build console");
  });

  it("are the console's paths only", () => {
    expect(isConsolePath("/console")).toBe(true);
    expect(isConsolePath("/console/assets/x.js")).toBe(true);
    expect(isConsolePath("/consoles")).toBe(false);
    expect(isConsolePath("/servers")).toBe(false);
  });
});
