import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["packages/*/src/**/*.test.ts", "services/*/src/**/*.test.ts", "tests/*/src/**/*.test.ts"],
    globalSetup: ["packages/shared/src/testing/global-setup.ts"],
    // Most test files spend their time waiting (simulated delays, timers, NATS and Postgres round
    // trips), not computing: two at a time on this 2-core machine, where the default ran one.
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // `make coverage`: the unit tests' coverage of the production code, per package
    // (scripts/coverage-by-package.ts), with a floor on the pure domain code that CI enforces.
    coverage: {
      provider: "v8",
      include: ["packages/*/src/**/*.ts", "services/*/src/**/*.ts"],
      exclude: ["**/*.test.ts", "**/testing/**", "**/db/migrations/**", "**/main.ts"],
      reporter: ["text-summary", "json-summary"],
      reportsDirectory: "coverage",
      thresholds: {
        // The pure domain code (state machine, money, cursors, idle rule) and the pure shared
        // helpers (CIDR math among them), each floor just below what the unit tests covered when it was set (96 and 100 %).
        "services/*/src/domain/**": { lines: 94, statements: 94, functions: 90, branches: 92 },
        "packages/shared/src/{duration,ids,wildcards,concurrency,cidr}.ts": {
          lines: 98,
          statements: 98,
          functions: 98,
          branches: 90,
        },
      },
    },
  },
});
