import { existsSync } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { extname, join, normalize, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { AppError } from "@cloudsim/shared";
import type { FastifyPluginAsync, FastifyReply } from "fastify";

/** The console's paths: open to every caller (the page itself asks for the key), kept out of the docs. */
export const isConsolePath = (path: string) => path === "/console" || path.startsWith("/console/");

/**
 * Where the built console is (packages/console's `vite build`): beside a bundle (scripts/build.ts
 * copies it to dist/console, and the image keeps it there), or, from the sources, in the
 * workspace's packages/console/dist. Null when it was not built.
 */
export function consoleFolder(moduleUrl: string = import.meta.url): string | null {
  const candidates = [
    fileURLToPath(new URL("./console", moduleUrl)),
    fileURLToPath(new URL("../../../../packages/console/dist", moduleUrl)),
  ];
  return candidates.find((dir) => existsSync(join(dir, "index.html"))) ?? null;
}

const types: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".map": "application/json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".woff2": "font/woff2",
  ".txt": "text/plain; charset=utf-8",
};

/** Everything the page loads is its own: no inline script or style, no other origin. */
const contentSecurityPolicy = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

const notBuilt = () =>
  new AppError(
    "UNAVAILABLE",
    "the console is not built: run `pnpm build console` (make run builds it), then reload",
    { reason: "console_not_built" },
  );

/**
 * The web console at /console (index.html, no-cache) and /console/assets/… (hashed names, cached
 * for a year); 503 when it was not built, 404 for a file it does not have.
 */
export const consoleRoutes =
  (folder: () => string | null = () => consoleFolder()): FastifyPluginAsync =>
  async (app) => {
    const send = async (reply: FastifyReply, relative: string) => {
      const root = folder();
      if (!root) throw notBuilt();
      const path = normalize(join(root, relative));
      if (!path.startsWith(root + sep)) throw new AppError("NOT_FOUND", `no such file: /console/${relative}`);
      const info = await stat(path).catch(() => null);
      if (!info?.isFile()) throw new AppError("NOT_FOUND", `no such file: /console/${relative}`);
      const hashed = relative.startsWith("assets/");
      return reply
        .header("content-type", types[extname(path)] ?? "application/octet-stream")
        .header("cache-control", hashed ? "public, max-age=31536000, immutable" : "no-cache")
        .header("content-security-policy", contentSecurityPolicy)
        .header("last-modified", info.mtime.toUTCString())
        .send(await readFile(path));
    };
    const hide = { schema: { hide: true } };
    app.get("/console", hide, (_request, reply) => send(reply, "index.html"));
    app.get<{ Params: { "*": string } }>("/console/*", hide, (request, reply) =>
      send(reply, request.params["*"] === "" ? "index.html" : request.params["*"]),
    );
  };
