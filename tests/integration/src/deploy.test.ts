import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { workspaceRoot } from "@cloudsim/shared/testing";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";

/**
 * What can be checked of the deployment without a container engine: the compose file's
 * shape, that it names every service, and that Prometheus scrapes each. (docker compose was
 * never run here; .ci/run also runs `docker-compose config -q` and promtool on the files.)
 */
const read = (path: string) => readFileSync(join(workspaceRoot, path), "utf8");
const services = readdirSync(join(workspaceRoot, "services"));

interface ComposeService {
  build?: { context: string; args: { SERVICE: string } };
  ports?: string[];
  expose?: string[];
  healthcheck?: unknown;
  depends_on?: Record<string, { condition: string }>;
  environment?: Record<string, string>;
}

describe("docker-compose.yml and the Dockerfile", () => {
  const compose = parse(read("docker-compose.yml"), { merge: true }) as {
    services: Record<string, ComposeService>;
  };

  it("runs postgres, nats with JetStream, jaeger, prometheus and one container per service", () => {
    for (const infra of ["postgres", "nats", "jaeger", "prometheus"])
      expect(compose.services[infra]).toBeDefined();
    expect(JSON.stringify(compose.services.nats)).toContain('"-js"');
    expect(services.sort()).toEqual(["billing", "gateway", "ipam", "lifecycle", "reaper"]);
    for (const name of services) {
      const service = compose.services[name];
      expect(service?.build?.args.SERVICE, name).toBe(name);
      expect(service?.depends_on?.postgres?.condition).toBe("service_healthy");
      expect(service?.depends_on?.nats?.condition).toBe("service_healthy");
      expect(service?.environment?.OTEL_EXPORTER_OTLP_ENDPOINT).toMatch(/^http:\/\/jaeger:4318$/);
      // Scalable: no fixed host port but on the gateway, the one entry point.
      if (name !== "gateway") expect(service?.ports, `${name} publishes no host port`).toBeUndefined();
    }
    expect(compose.services.postgres?.healthcheck).toBeDefined();
    expect(compose.services.nats?.healthcheck).toBeDefined();
  });

  it("builds each service as a non-root user with a healthcheck and ships its migrations", () => {
    const dockerfile = read("Dockerfile");
    expect(dockerfile).toMatch(/^FROM node:\$\{NODE_VERSION\}/m);
    expect(dockerfile).toMatch(/^ARG NODE_VERSION=(22|24)$/m);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/^HEALTHCHECK /m);
    expect(dockerfile).toContain("deploy --prod");
    // Every workspace package's manifest is copied before the install.
    for (const name of services) expect(dockerfile).toContain(`COPY services/${name}/package.json`);
    // pnpm deploy copies the package folder, src/db/migrations included, and .dockerignore keeps it.
    expect(read(".dockerignore")).not.toMatch(/migrations/);
  });

  it("has Prometheus scrape every service", () => {
    const prometheus = parse(read("ops/prometheus/prometheus.yml")) as {
      scrape_configs: { job_name: string; dns_sd_configs?: { names: string[] }[] }[];
    };
    for (const name of services) {
      const job = prometheus.scrape_configs.find((j) => j.job_name === `cloudsim-${name}`);
      expect(job?.dns_sd_configs?.[0]?.names).toEqual([name]);
    }
  });

  it.skipIf(spawnSync("docker-compose", ["version"]).status !== 0)("passes docker-compose config", () => {
    const check = spawnSync("docker-compose", ["config", "-q"], { cwd: workspaceRoot, encoding: "utf8" });
    expect(check.stderr).toBe("");
    expect(check.status).toBe(0);
  });
});
