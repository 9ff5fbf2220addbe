import { randomUUID } from "node:crypto";
import { AppError, type Bus, ipam } from "@cloudsim/shared";
import { afterAll, beforeAll, expect, it } from "vitest";
import { busOf, fastEnv, useStack } from "./harness.ts";

// ap-southeast-1 moved to a /29: five usable addresses (not .0, the gateway .1, nor .7), few enough to run out of.
const pools = (fastEnv.IPAM_POOLS ?? "")
  .split(",")
  .map((entry) => (entry.startsWith("ap-southeast-1=") ? "ap-southeast-1=10.8.0.0/29" : entry))
  .join(",");

const ctx = useStack({ env: { IPAM_POOLS: pools }, skip: ["gateway", "lifecycle"] });
let bus: Bus;
beforeAll(async () => {
  bus = await busOf(ctx.stack);
});
afterAll(async () => {
  await bus?.close();
});

const servers = (n: number, region: "us-east-1" | "eu-west-1" | "ap-southeast-1") =>
  Array.from({ length: n }, () => ({ server_id: randomUUID(), region }));

it("ipam.allocate_many gives each server its own address in its region, in the order asked", async () => {
  const wanted = [...servers(40, "us-east-1"), ...servers(30, "eu-west-1")].sort(() => Math.random() - 0.5);
  const { items } = await bus.request(ipam.allocateMany, { items: wanted });
  expect(items.map((i) => i.server_id)).toEqual(wanted.map((w) => w.server_id));
  const addresses = items.map((i) => i.address);
  expect(new Set(addresses).size).toBe(wanted.length);
  for (const [i, w] of wanted.entries())
    expect(addresses[i]).toMatch(w.region === "us-east-1" ? /^10\.0\.[0-3]\.\d+$/ : /^10\.2\.[0-3]\.\d+$/);
});

it("a server that holds an address gets it back, the others theirs", async () => {
  const [again] = servers(1, "us-east-1");
  const first = await bus.request(ipam.allocate, again as { server_id: string; region: "us-east-1" });
  const fresh = servers(5, "us-east-1");
  const { items } = await bus.request(ipam.allocateMany, { items: [...fresh, again as (typeof fresh)[0]] });
  expect(items.at(-1)).toEqual({ server_id: again?.server_id, address: first.address });
  expect(new Set(items.map((i) => i.address)).size).toBe(6);
});

it("null for the servers no address was left for; ipam.allocate for one of them says why", async () => {
  const wanted = servers(9, "ap-southeast-1");
  const { items } = await bus.request(ipam.allocateMany, { items: wanted });
  const given = items.filter((i) => i.address !== null);
  expect(given).toHaveLength(5);
  expect(new Set(given.map((i) => i.address)).size).toBe(5);
  const refused = await bus
    .request(ipam.allocate, wanted.find((_, i) => items[i]?.address === null) as (typeof wanted)[0])
    .catch((err: unknown) => err);
  expect(refused).toBeInstanceOf(AppError);
  expect(refused).toMatchObject({ code: "EXHAUSTED" });
});
