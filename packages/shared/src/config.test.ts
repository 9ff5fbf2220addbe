import { describe, expect, it } from "vitest";
import { z } from "zod";
import {
  baseConfig,
  ConfigError,
  databaseConfig,
  databaseUrl,
  duration,
  envBoolean,
  loadConfig,
} from "./config.ts";

const schema = baseConfig.extend(databaseConfig.shape).extend({ DELAY: duration("2s") });

describe("loadConfig", () => {
  it("fills defaults", () => {
    const config = loadConfig(schema, {});
    expect(config).toMatchObject({
      NATS_URL: "nats://127.0.0.1:4222",
      DELAY: 2_000,
      DB_PORT: 5432,
      LOG_LEVEL: "info",
    });
  });
  it("names every bad variable and what it got", () => {
    const attempt = () => loadConfig(schema, { DELAY: "later", DB_PORT: "x", NATS_SUBJECT_PREFIX: "no-dot" });
    expect(attempt).toThrow(ConfigError);
    try {
      attempt();
    } catch (err) {
      const problems = (err as ConfigError).problems.join("\n");
      expect(problems).toMatch(/^DELAY: expected a duration.*"later"/m);
      expect(problems).toMatch(/^DB_PORT: .*\(got "x"\)/m);
      expect(problems).toMatch(/^NATS_SUBJECT_PREFIX: /m);
    }
  });
  it("treats an empty DATABASE_URL as unset", () => {
    expect(
      loadConfig(z.object({ DATABASE_URL: databaseConfig.shape.DATABASE_URL }), { DATABASE_URL: "" }),
    ).toEqual({});
  });
});

describe("envBoolean", () => {
  const flag = z.object({ FLAG: envBoolean(true) });
  it("reads true, 1 and yes as true; false, 0 and no as false; unset as its default", () => {
    for (const word of ["true", "1", "yes"]) expect(loadConfig(flag, { FLAG: word }).FLAG).toBe(true);
    for (const word of ["false", "0", "no"]) expect(loadConfig(flag, { FLAG: word }).FLAG).toBe(false);
    expect(loadConfig(flag, {}).FLAG).toBe(true);
    expect(loadConfig(z.object({ FLAG: envBoolean(false) }), {}).FLAG).toBe(false);
  });
  it("refuses any other word, upper case and empty included", () => {
    for (const word of ["TRUE", "on", ""])
      expect(() => loadConfig(flag, { FLAG: word })).toThrow(`FLAG: expected true or false (got "${word}")`);
  });
});

describe("databaseUrl", () => {
  it("prefers DATABASE_URL", () => {
    expect(databaseUrl(loadConfig(databaseConfig, { DATABASE_URL: "postgres://a@b/c" }))).toBe(
      "postgres://a@b/c",
    );
  });
  it("builds one from DB_* with the password escaped", () => {
    const config = loadConfig(databaseConfig, {
      DB_HOST: "db",
      DB_USER: "app",
      DB_PASSWORD: "p@ss/word",
      DB_NAME: "x",
    });
    expect(databaseUrl(config)).toBe("postgres://app:p%40ss%2Fword@db:5432/x?sslmode=disable");
  });
});
