import { defineConfig } from "vite";

/**
 * The console: a static page the gateway serves at /console (services/gateway/src/routes/console.ts),
 * everything bundled into dist/ (no CDN). Hashed file names under assets/ are cached for long.
 */
export default defineConfig({
  root: import.meta.dirname,
  base: "/console/",
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    sourcemap: false,
    // No inline script or style: the gateway serves the page with a strict Content-Security-Policy.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
  },
  logLevel: "warn",
});
