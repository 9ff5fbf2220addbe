import { beforeAll, describe, expect, it } from "vitest";
import { type Answer, allPages, eventually, fastEnv, type ServiceName, sample, useStack } from "./harness.ts";

const region = "eu-west-1";
const cidr = "10.9.0.0/24";
/** A /24 less its network, gateway (.1) and broadcast addresses. */
const usable = 253;
const attempts = 300;
/** The harness pools with eu-west-1 moved to a /24. */
const pools = (fastEnv.IPAM_POOLS ?? "")
  .split(",")
  .map((entry) => (entry.startsWith(`${region}=`) ? `${region}=${cidr}` : entry))
  .join(",");

function exhaustion(title: string, replicas: Partial<Record<ServiceName, number>>) {
  describe(title, () => {
    const ctx = useStack({ env: { IPAM_POOLS: pools }, replicas });
    const api = ctx.api;
    let answers: Answer[];

    beforeAll(async () => {
      answers = await Promise.all(
        Array.from({ length: attempts }, (_, i) =>
          api.post("/servers", { region, type: "t2.nano", name: `fill-${i}` }),
        ),
      );
    });

    it(`${usable} of ${attempts} get a server, each with its own address inside ${cidr}`, () => {
      const unexpected = answers.filter((res) => res.status !== 201 && res.status !== 409);
      expect(unexpected.map((res) => [res.status, res.body])).toEqual([]);
      const created = answers.filter((res) => res.status === 201);
      expect(created).toHaveLength(usable);
      const addresses = created.map((res) => res.body.ip_address as string);
      expect(new Set(addresses).size).toBe(usable);
      const expected = Array.from({ length: usable }, (_, i) => `10.9.0.${i + 2}`);
      expect([...addresses].sort()).toEqual([...expected].sort());
      for (const res of created) expect(res.body.region).toBe(region);
    });

    it(`the other ${attempts - usable} are 409 EXHAUSTED naming the pool`, () => {
      const refused = answers.filter((res) => res.status === 409);
      expect(refused).toHaveLength(attempts - usable);
      for (const res of refused) {
        expect(res.headers.get("content-type")).toMatch(/^application\/problem\+json/);
        expect(res.body).toMatchObject({ code: "EXHAUSTED", status: 409, region, cidr, size: usable });
        expect(res.body.detail).toContain(cidr);
      }
    });

    it(`GET /servers?region=${region} pages to exactly the ${usable} servers`, async () => {
      const ids = (await allPages(api, `region=${region}`, 100)).flatMap((p) => p.ids);
      expect(ids).toHaveLength(usable);
      const createdIds = answers.filter((res) => res.status === 201).map((res) => res.body.id as string);
      expect([...ids].sort()).toEqual([...createdIds].sort());
      expect((await allPages(api, "region=us-east-1", 100)).flatMap((p) => p.ids)).toEqual([]);
    });

    it(`GET /ipam/pools shows ${region} full`, async () => {
      const res = await api.get("/ipam/pools");
      expect(res.status).toBe(200);
      const pool = res.body.items.find((p: { region: string }) => p.region === region);
      expect(pool).toEqual({ region, cidr, size: usable, used: usable, cooling_down: 0, free: 0 });
      for (const other of res.body.items.filter((p: { region: string }) => p.region !== region)) {
        expect(other.used).toBe(0);
      }
    });

    it("one more request is refused at once", async () => {
      const res = await api.post("/servers", { region, type: "t2.nano" });
      expect(res.status).toBe(409);
      expect(res.body.code).toBe("EXHAUSTED");
    });

    if ((replicas.ipam ?? 1) > 1 || (replicas.lifecycle ?? 1) > 1) {
      it("every replica took a share of the work", async () => {
        // Concurrent provisions ask ipam for their addresses together (ipam.allocate_many).
        for (const [name, subjects] of [
          ["ipam", ["ipam.allocate", "ipam.allocate_many"]],
          ["lifecycle", ["lifecycle.provision"]],
        ] as const) {
          const ports = ctx.stack.services.filter((s) => s.name === name).map((s) => s.running.port);
          expect(ports).toHaveLength(replicas[name] ?? 1);
          for (const port of ports) {
            const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
            const answered = subjects.map((subject) =>
              sample(metrics, "cloudsim_nats_requests_total", { subject }),
            );
            expect(
              answered.reduce((sum, n) => sum + n, 0),
              `${name} on ${port}`,
            ).toBeGreaterThan(0);
          }
        }
      });

      it("every server reaches running once, whichever replica's timer takes it", async () => {
        const created = answers.filter((res) => res.status === 201).map((res) => res.body.id as string);
        await eventually(
          async () => {
            const page = await api.get(`/servers?region=${region}&state=provisioning&limit=1`);
            return page.body.items.length === 0 ? true : undefined;
          },
          15_000,
          "all servers running",
        );
        const logs = await Promise.all(created.map((id) => api.get(`/servers/${id}/logs?limit=100`)));
        for (const log of logs) {
          const toRunning = log.body.items.filter(
            (e: { to_state: string | null }) => e.to_state === "running",
          );
          expect(toRunning).toHaveLength(1);
        }
      });
    }
  });
}

exhaustion("exhausting a /24 with one replica of each service", {});
exhaustion("exhausting a /24 with two ipam and two lifecycle replicas", { ipam: 2, lifecycle: 2 });
