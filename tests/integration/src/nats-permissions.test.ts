import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  AppError,
  type Bus,
  baseConfig,
  commands,
  connectBus,
  createLogger,
  loadConfig,
  type NatsService,
  natsAuthorizationConfig,
  natsRoles,
  natsServices,
  serverEventSubject,
  tenants,
} from "@cloudsim/shared";
import { localNatsUser, workspaceRoot } from "@cloudsim/shared/testing";
import { headers } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { eventually, useStack } from "./harness.ts";
import { ADMIN_KEY, authEnv, keyed, newTenant } from "./tenancy-helpers.ts";

/**
 * The tests' nats-server (global setup) runs the users and permissions Compose and `make run`
 * deploy, generated from the contracts: each service may send only what it declares.
 */
describe("NATS users and permissions", () => {
  it("ops/nats/cloudsim.conf, which Compose runs, is what the contracts generate", () => {
    const checkedIn = readFileSync(join(workspaceRoot, "ops/nats/cloudsim.conf"), "utf8");
    expect(checkedIn, "run `npx tsx scripts/nats-config.ts`").toBe(
      natsAuthorizationConfig({ subjectPrefix: "" }),
    );
  });

  describe("each service's user on the tests' nats-server", () => {
    // A prefix nobody serves: a command a user may send finds no responder, one it may not is refused.
    const subjectPrefix = `t${randomBytes(5).toString("hex")}.`;
    const buses = new Map<NatsService, Bus>();
    beforeAll(async () => {
      for (const service of natsServices) {
        const config = loadConfig(baseConfig, {
          NATS_URL: inject("natsUrl"),
          NATS_SUBJECT_PREFIX: subjectPrefix,
          REQUEST_TIMEOUT: "3s",
          ...localNatsUser(service),
        });
        buses.set(service, await connectBus(service, config, createLogger(service, "silent")));
      }
    });
    afterAll(async () => {
      for (const bus of buses.values()) await bus.close();
    });
    const busOf = (service: NatsService) => buses.get(service) as Bus;
    const outcome = (request: Promise<unknown>) =>
      request.then(
        () => "answered",
        (err: unknown) => (err instanceof AppError ? err.code : String(err)),
      );

    it("refuses the reaper's user lifecycle.tenant_* and every other command it does not send", async () => {
      const refused = await busOf("reaper")
        .request(tenants.create, { name: "stolen" })
        .catch((err: unknown) => err);
      expect(refused).toBeInstanceOf(AppError);
      expect(refused).toMatchObject({
        code: "FORBIDDEN",
        message: "reaper may not send lifecycle.tenant_create (NATS permissions)",
      });
      for (const service of natsServices) {
        const sends = new Set<unknown>(natsRoles[service].sends);
        const outcomes = await Promise.all(
          commands.map(async (command) => [
            command.subject,
            await outcome(busOf(service).request(command, {} as never)),
          ]),
        );
        // UNAVAILABLE: the server let it through, and nobody on this prefix answers.
        expect(Object.fromEntries(outcomes), service).toEqual(
          Object.fromEntries(commands.map((c) => [c.subject, sends.has(c) ? "UNAVAILABLE" : "FORBIDDEN"])),
        );
      }
    });

    it("lets only lifecycle publish server events, so no other service can forge one", async () => {
      const subject = subjectPrefix + serverEventSubject("terminated");
      for (const service of natsServices) {
        const published = await busOf(service)
          .publishToStream(subject, "{}", headers())
          .then(
            () => "stored",
            (err: Error) => (err.message.includes("refused a publish") ? "refused" : "let through"),
          );
        // Let through, no stream on this prefix stores it: nothing answers.
        expect(published, service).toBe(service === "lifecycle" ? "let through" : "refused");
      }
    });
  });

  describe("the system, every service connected as its own user", () => {
    const ctx = useStack({
      env: {
        ...authEnv,
        // Only the revocation message on auth.key_revoked can drop a key from the gateway's cache.
        AUTH_CACHE_TTL: "1h",
        IDLE_TIMEOUT: "1s",
        REAPER_INTERVAL: "150ms",
        PROVISION_DELAY: "100ms",
        STOP_DELAY: "100ms",
        TERMINATE_DELAY: "100ms",
      },
    });

    it("provisions, bills, reaps and revokes under the permissions", async () => {
      const url = ctx.stack.url;
      const tenant = await newTenant(url, "permitted");
      const api = keyed(url, tenant.key);
      const created = await api.post("/servers", { region: "eu-west-1", type: "t2.micro" });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      const id = created.body.id as string;
      const server = async () => (await api.get(`/servers/${id}`)).body;
      const running = await eventually(async () =>
        (await server()).state === "running" ? server() : undefined,
      );
      expect(running.billing).not.toBeNull();
      expect((await api.post(`/servers/${id}/action`, { action: "stop" })).status).toBe(202);
      // Stopped for longer than IDLE_TIMEOUT: the reaper has it terminated.
      await eventually(async () => ((await server()).state === "terminated" ? true : undefined));
      // Each service's events reached the others: ipam's release and billing's settlement are in the log.
      const logTypes = await eventually(async () => {
        const types = (await api.get(`/servers/${id}/logs?limit=100`)).body.items.map(
          (e: { type: string }) => e.type,
        ) as string[];
        return types.includes("ip.released") && types.includes("billing.stopped") ? types : undefined;
      });
      expect(logTypes).toContain("billing.started");
      expect((await api.get(`/servers/${id}/billing`)).status).toBe(200);
      expect((await api.get("/reaper/status")).status).toBe(200);
      expect((await api.get("/ipam/pools")).status).toBe(200);

      expect((await keyed(url, ADMIN_KEY).call("DELETE", `/admin/keys/${tenant.keyId}`)).status).toBe(204);
      await eventually(async () => ((await api.get("/servers")).status === 401 ? true : undefined));

      // Every connection a service made to the tests' nats-server is authorized as that service's user.
      const connz = (await (
        await fetch(`${inject("natsMonitorUrl")}/connz?auth=true&limit=4096`)
      ).json()) as {
        connections: { name?: string; authorized_user?: string }[];
      };
      const ofServices = connz.connections.filter((c) => natsServices.includes(c.name as NatsService));
      expect(new Set(ofServices.map((c) => c.name))).toEqual(new Set(natsServices));
      for (const connection of ofServices)
        expect(connection.authorized_user, connection.name).toBe(connection.name);
    });
  });
});
