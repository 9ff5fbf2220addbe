import { randomUUID } from "node:crypto";
import { type Bus, ipam } from "@cloudsim/shared";
import { afterAll, beforeAll, expect, it } from "vitest";
import { busOf, eventually, useStack } from "./harness.ts";

const ctx = useStack({ env: { IP_CONFIRM_TIMEOUT: "500ms", IP_RECONCILE_INTERVAL: "100ms" } });
let bus: Bus;
beforeAll(async () => {
  bus = await busOf(ctx.stack);
});
afterAll(async () => {
  await bus?.close();
});

const used = async (region: string) =>
  (await ctx.api.get("/ipam/pools")).body.items.find((p: { region: string }) => p.region === region).used;

it("an address allocated for a server that was never stored goes back to the pool", async () => {
  // What lifecycle leaves behind when it dies (or loses the reply) between allocate and insert.
  const orphan = await bus.request(ipam.allocate, { server_id: randomUUID(), region: "ap-southeast-1" });
  expect(orphan.address).toMatch(/^10\.4\./);
  expect(await used("ap-southeast-1")).toBe(1);
  await eventually(
    async () => ((await used("ap-southeast-1")) === 0 ? true : undefined),
    10_000,
    "orphan released",
  );
});

it("keeps the address of a server that exists, even long after it was allocated", async () => {
  const api = ctx.api;
  const created = await api.post("/servers", { region: "ap-southeast-1", type: "t2.micro" });
  expect(created.status).toBe(201);
  await new Promise((r) => setTimeout(r, 1_500));
  expect(await used("ap-southeast-1")).toBe(1);
  expect((await api.get(`/servers/${created.body.id}`)).body.ip_address).toBe(created.body.ip_address);
});
