import { generateKeyPairSync } from "node:crypto";
import { DescribeKeyPairsCommand, EC2Client } from "@aws-sdk/client-ec2";
import { describe, expect, it } from "vitest";
import { type Answer, client, useStack } from "./harness.ts";
import { ADMIN_KEY, authEnv, keyed, newTenant } from "./tenancy-helpers.ts";

/** Nova beyond servers: os-keypairs on lifecycle's key pairs (the same keys as EC2's of the region), limits. */

const compute = "/compute/us-east-1/v2.1";
const at = (version: string) => ({ "openstack-api-version": `compute ${version}` });

function expectFault(res: Answer, status: number, name: string, message: string | RegExp) {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.body[name]?.message, JSON.stringify(res.body)).toMatch(message);
}

/** An OpenSSH line of a new RSA key, as `ssh-keygen` writes it. */
function opensshRsaLine(comment: string): string {
  const { publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const jwk = publicKey.export({ format: "jwk" });
  const field = (bytes: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.length);
    return Buffer.concat([length, bytes]);
  };
  const mpint = (b64: string) => {
    const raw = Buffer.from(b64, "base64url");
    return field(raw[0] !== undefined && raw[0] & 0x80 ? Buffer.concat([Buffer.from([0]), raw]) : raw);
  };
  const blob = Buffer.concat([field(Buffer.from("ssh-rsa")), mpint(jwk.e ?? ""), mpint(jwk.n ?? "")]);
  return `ssh-rsa ${blob.toString("base64")} ${comment}`;
}

describe("Nova key pairs", () => {
  const ctx = useStack({ env: { ...authEnv, OPENSTACK_MAX_PAGE: "2" } });
  const api = client(() => ctx.stack.url);

  it("makes, imports, lists, shows and deletes key pairs, which EC2 sees as its own", async () => {
    const tenant = await newTenant(ctx.stack.url, "keys");
    const h = { "x-auth-token": tenant.key };

    const made = await api.post(`${compute}/os-keypairs`, { keypair: { name: "made" } }, h);
    expect(made.status, JSON.stringify(made.body)).toBe(200);
    expect(made.body.keypair).toMatchObject({ name: "made", user_id: tenant.id });
    expect(made.body.keypair.private_key).toMatch(/^-----BEGIN RSA PRIVATE KEY-----/);
    expect(made.body.keypair.public_key).toMatch(/^ssh-rsa AAAA/);
    expect(made.body.keypair.fingerprint).toMatch(/^([0-9a-f]{2}:){15}[0-9a-f]{2}$/);

    const line = opensshRsaLine("me@laptop");
    const imported = await api.post(
      `${compute}/os-keypairs`,
      { keypair: { name: "mine", public_key: line, type: "ssh" } },
      { ...h, ...at("2.2") },
    );
    expect(imported.status, JSON.stringify(imported.body)).toBe(201);
    expect(imported.body.keypair).toMatchObject({ name: "mine", type: "ssh", public_key: line });
    expect(imported.body.keypair.private_key).toBeUndefined();

    const listed = await api.get(`${compute}/os-keypairs`, h);
    expect(listed.body.keypairs.map((k: { keypair: { name: string } }) => k.keypair.name).sort()).toEqual([
      "made",
      "mine",
    ]);
    expect(listed.body.keypairs[0].keypair.type).toBeUndefined();
    const shown = await api.get(`${compute}/os-keypairs/mine`, h);
    expect(shown.body.keypair).toMatchObject({
      name: "mine",
      fingerprint: imported.body.keypair.fingerprint,
      user_id: tenant.id,
      deleted: false,
    });
    expect(Number.isSafeInteger(shown.body.keypair.id)).toBe(true);

    // The same store as EC2's: DescribeKeyPairs in the region finds both.
    const ec2 = new EC2Client({
      endpoint: ctx.stack.url,
      region: "us-east-1",
      credentials: { accessKeyId: tenant.keyId, secretAccessKey: tenant.key },
    });
    const described = await ec2.send(new DescribeKeyPairsCommand({}));
    expect(described.KeyPairs?.map((k) => k.KeyName).sort()).toEqual(["made", "mine"]);
    ec2.destroy();

    // An empty body under a JSON content type (Tempest sends one on every DELETE) is no body.
    const json = { "content-type": "application/json" };
    expect(
      (await api.call("DELETE", `${compute}/os-keypairs/made`, undefined, { ...h, ...json })).status,
    ).toBe(202);
    const broken = await api.call("POST", `${compute}/os-keypairs`, "{", { ...h, ...json });
    expect(broken.status).toBe(400);
    expect(
      (await api.call("DELETE", `${compute}/os-keypairs/mine`, undefined, { ...h, ...at("2.2") })).status,
    ).toBe(204);
    expectFault(
      await api.get(`${compute}/os-keypairs/mine`, h),
      404,
      "itemNotFound",
      `Keypair mine not found for user ${tenant.id}`,
    );
    expect((await api.get(`${compute}/os-keypairs`, h)).body.keypairs).toEqual([]);
  });

  it("pages the list from 2.35 with limit and marker", async () => {
    const tenant = await newTenant(ctx.stack.url, "paged-keys");
    const h = { "x-auth-token": tenant.key, ...at("2.35") };
    for (const name of ["a", "b", "c"])
      expect(
        (await api.post(`${compute}/os-keypairs`, { keypair: { name, public_key: opensshRsaLine(name) } }, h))
          .status,
      ).toBe(201);
    const first = await api.get(`${compute}/os-keypairs`, h);
    expect(first.body.keypairs.map((k: { keypair: { name: string } }) => k.keypair.name)).toEqual(["a", "b"]);
    const next = new URL(first.body.keypairs_links[0].href);
    expect(next.searchParams.get("marker")).toBe("b");
    const second = await api.get(`${compute}/os-keypairs${next.search}`, h);
    expect(second.body.keypairs.map((k: { keypair: { name: string } }) => k.keypair.name)).toEqual(["c"]);
    expect(second.body.keypairs_links).toBeUndefined();
    expectFault(
      await api.get(`${compute}/os-keypairs?marker=zz`, h),
      400,
      "badRequest",
      /marker \[zz\] not found/,
    );
  });

  it("answers a taken name, a bad key, an unknown field and another tenant's key as Nova does", async () => {
    const tenant = await newTenant(ctx.stack.url, "bad-keys");
    const other = await newTenant(ctx.stack.url, "other-keys");
    const h = { "x-auth-token": tenant.key };
    expect((await api.post(`${compute}/os-keypairs`, { keypair: { name: "k" } }, h)).status).toBe(200);
    expectFault(
      await api.post(`${compute}/os-keypairs`, { keypair: { name: "k" } }, h),
      409,
      "conflictingRequest",
      "Key pair 'k' already exists.",
    );
    expectFault(
      await api.post(`${compute}/os-keypairs`, { keypair: { name: "x", public_key: "ssh-rsa bm9wZQ==" } }, h),
      400,
      "badRequest",
      /^Keypair data is invalid/,
    );
    expectFault(
      await api.post(`${compute}/os-keypairs`, { keypair: { name: "x", colour: "red" } }, h),
      400,
      "badRequest",
      /keypair/,
    );
    expectFault(
      await api.post(`${compute}/os-keypairs`, { keypair: { name: "" } }, h),
      400,
      "badRequest",
      /keypair\/name/,
    );
    expectFault(
      await api.post(`${compute}/os-keypairs`, { keypair: { name: "t", type: "ssh" } }, h),
      400,
      "badRequest",
      /'type' was unexpected/,
    );
    expectFault(
      await api.post(
        `${compute}/os-keypairs`,
        { keypair: { name: "t", type: "x509" } },
        { ...h, ...at("2.2") },
      ),
      400,
      "badRequest",
      /x509 is not supported/,
    );
    // Another tenant neither sees nor deletes it.
    const theirs = { "x-auth-token": other.key };
    expect((await api.get(`${compute}/os-keypairs`, theirs)).body.keypairs).toEqual([]);
    expectFault(
      await api.call("DELETE", `${compute}/os-keypairs/k`, undefined, theirs),
      404,
      "itemNotFound",
      /Keypair k not found/,
    );
    expect((await api.get(`${compute}/os-keypairs/k`, h)).status).toBe(200);
  });

  it("answers limits from the tenant's quotas and what its servers use", async () => {
    const tenant = await newTenant(ctx.stack.url, "limited");
    const patched = await keyed(ctx.stack.url, ADMIN_KEY).call("PATCH", `/admin/tenants/${tenant.id}`, {
      max_servers: 3,
      max_vcpus: 8,
    });
    expect(patched.status).toBe(200);
    const h = { "x-auth-token": tenant.key };
    const before = await api.get(`${compute}/limits`, h);
    expect(before.status, JSON.stringify(before.body)).toBe(200);
    expect(before.body.limits.absolute).toMatchObject({
      maxTotalInstances: 3,
      maxTotalCores: 8,
      totalInstancesUsed: 0,
      totalCoresUsed: 0,
      totalRAMUsed: 0,
      maxTotalRAMSize: -1,
      maxSecurityGroups: -1,
    });
    const made = await api.post(
      `${compute}/servers`,
      { server: { name: "vm", imageRef: "ami-0d2b8e9f3a4c5b6d7", flavorRef: "t2.medium" } },
      h,
    );
    expect(made.status, JSON.stringify(made.body)).toBe(202);
    const after = (await api.get(`${compute}/limits`, { ...h, ...at("2.36") })).body.limits.absolute;
    // t2.medium: 2 vCPUs and 4 GiB.
    expect(after).toMatchObject({ totalInstancesUsed: 1, totalCoresUsed: 2, totalRAMUsed: 4096 });
    expect(after.maxSecurityGroups).toBeUndefined();
  });

  it("reads and writes a server's metadata, which are its tags", async () => {
    const tenant = await newTenant(ctx.stack.url, "meta");
    const h = { "x-auth-token": tenant.key };
    const made = await api.post(
      `${compute}/servers`,
      {
        server: {
          name: "vm",
          imageRef: "ami-0d2b8e9f3a4c5b6d7",
          flavorRef: "t2.micro",
          metadata: { role: "web" },
        },
      },
      h,
    );
    expect(made.status, JSON.stringify(made.body)).toBe(202);
    const path = `${compute}/servers/${made.body.server.id}/metadata`;
    expect((await api.get(path, h)).body).toEqual({ metadata: { role: "web" } });
    expect((await api.post(path, { metadata: { env: "dev" } }, h)).body).toEqual({
      metadata: { role: "web", env: "dev" },
    });
    expect((await api.get(`${path}/env`, h)).body).toEqual({ meta: { env: "dev" } });
    expect((await api.call("PUT", `${path}/tier`, { meta: { tier: "1" } }, h)).body).toEqual({
      meta: { tier: "1" },
    });
    expectFault(
      await api.call("PUT", `${path}/tier`, { meta: { other: "1" } }, h),
      400,
      "badRequest",
      "Request body and URI mismatch",
    );
    expect((await api.call("DELETE", `${path}/role`, undefined, h)).status).toBe(204);
    expectFault(
      await api.call("DELETE", `${path}/role`, undefined, h),
      404,
      "itemNotFound",
      "Metadata item was not found",
    );
    expectFault(await api.get(`${path}/role`, h), 404, "itemNotFound", "Metadata item was not found");
    expect((await api.call("PUT", path, { metadata: { only: "this" } }, h)).body).toEqual({
      metadata: { only: "this" },
    });
    const server = await api.get(`${compute}/servers/${made.body.server.id}`, h);
    expect(server.body.server.metadata).toEqual({ only: "this" });
    const many = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, "v"]));
    expectFault(
      await api.post(path, { metadata: many }, h),
      403,
      "forbidden",
      "Maximum number of metadata items exceeds 50",
    );
    expectFault(await api.post(path, { metadata: { "": "v" } }, h), 400, "badRequest", /metadata/);
    // Another tenant's server is not there.
    const other = await newTenant(ctx.stack.url, "meta-other");
    expectFault(
      await api.get(path, { "x-auth-token": other.key }),
      404,
      "itemNotFound",
      /could not be found/,
    );
  });

  it("keeps a server's tags (2.26), a set of strings beside its metadata", async () => {
    const tenant = await newTenant(ctx.stack.url, "tags");
    const h = { "x-auth-token": tenant.key, ...at("2.26") };
    const made = await api.post(
      `${compute}/servers`,
      {
        server: {
          name: "vm",
          imageRef: "ami-0d2b8e9f3a4c5b6d7",
          flavorRef: "t2.micro",
          metadata: { role: "web" },
        },
      },
      h,
    );
    const server = `${compute}/servers/${made.body.server.id}`;
    expect((await api.get(`${server}/tags`, h)).body).toEqual({ tags: [] });
    expect((await api.get(`${server}/tags`, { "x-auth-token": tenant.key })).status).toBe(404);

    const added = await api.call("PUT", `${server}/tags/blue`, undefined, h);
    expect(added.status).toBe(201);
    expect(added.headers.get("location")).toMatch(/\/tags\/blue$/);
    expect((await api.call("PUT", `${server}/tags/blue`, undefined, h)).status).toBe(204);
    expect((await api.call("PUT", `${server}/tags`, { tags: ["b", "a", "b"] }, h)).body).toEqual({
      tags: ["a", "b"],
    });
    expect((await api.get(`${server}/tags/a`, h)).status).toBe(204);
    expectFault(await api.get(`${server}/tags/blue`, h), 404, "itemNotFound", /Tag blue could not be found/);
    const shown = (await api.get(server, h)).body.server;
    expect(shown).toMatchObject({ tags: ["a", "b"], metadata: { role: "web" } });

    expectFault(
      await api.call("PUT", `${server}/tags/a,b`, undefined, h),
      400,
      "badRequest",
      /may not contain/,
    );
    const many = Array.from({ length: 50 }, (_, i) => `t${i}`);
    expect((await api.call("PUT", `${server}/tags`, { tags: many }, h)).status).toBe(200);
    expectFault(
      await api.call("PUT", `${server}/tags/one-more`, undefined, h),
      400,
      "badRequest",
      /per-server limit 50/,
    );
    expect((await api.call("DELETE", `${server}/tags/t0`, undefined, h)).status).toBe(204);
    expect((await api.call("DELETE", `${server}/tags`, undefined, h)).status).toBe(204);
    expect((await api.get(`${server}/tags`, h)).body).toEqual({ tags: [] });
  });

  it("renames a server with PUT, refusing a bad name and the fields it does not keep", async () => {
    const tenant = await newTenant(ctx.stack.url, "rename");
    const h = { "x-auth-token": tenant.key };
    const made = await api.post(
      `${compute}/servers`,
      { server: { name: "before", imageRef: "ami-0d2b8e9f3a4c5b6d7", flavorRef: "t2.micro" } },
      h,
    );
    const server = `${compute}/servers/${made.body.server.id}`;
    const renamed = await api.call("PUT", server, { server: { name: "after" } }, h);
    expect(renamed.status, JSON.stringify(renamed.body)).toBe(200);
    expect(renamed.body.server).toMatchObject({ id: made.body.server.id, name: "after" });
    expect(
      (await api.get(`/servers/${made.body.server.id}`, { authorization: `Bearer ${tenant.key}` })).body.name,
    ).toBe("after");
    expectFault(
      await api.call("PUT", server, { server: { name: "" } }, h),
      400,
      "badRequest",
      /server\/name/,
    );
    expectFault(
      await api.call("PUT", server, { server: { accessIPv4: "10.0.0.1" } }, h),
      400,
      "badRequest",
      /access addresses/,
    );
    const other = await newTenant(ctx.stack.url, "rename-other");
    expectFault(
      await api.call("PUT", server, { server: { name: "theirs" } }, { "x-auth-token": other.key }),
      404,
      "itemNotFound",
      /could not be found/,
    );
  });
});
