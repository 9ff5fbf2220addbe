import { defineConfig } from "vitest/config";

// The module's own tests, against a Docker engine (make testcontainers-test): not in the root
// suite, which runs where no engine is.
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 180_000,
    hookTimeout: 240_000,
  },
});
