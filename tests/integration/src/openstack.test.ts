import { describe, expect, it } from "vitest";
import { type Answer, client, eventually, useStack } from "./harness.ts";
import { ADMIN_KEY, authEnv, keyed, newTenant } from "./tenancy-helpers.ts";

/** The OpenStack face driven over HTTP as NOVA.md §7's plan drives it with the CLI. */

const passwordAuth = (user: string, password: string, project?: string) => ({
  auth: {
    identity: {
      methods: ["password"],
      password: { user: { name: user, domain: { name: "Default" }, password } },
    },
    ...(project && { scope: { project: { name: project, domain: { name: "Default" } } } }),
  },
});

const unauthorizedBody = {
  error: { code: 401, title: "Unauthorized", message: "The request you have made requires authentication." },
};

function expectFault(res: Answer, status: number, name: string, message?: string | RegExp) {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.body[name]?.code, JSON.stringify(res.body)).toBe(status);
  if (typeof message === "string") expect(res.body[name].message).toBe(message);
  else if (message) expect(res.body[name].message).toMatch(message);
  expect(res.headers.get("x-compute-request-id")).toMatch(/^req-[0-9a-f-]{36}$/);
  expect(res.headers.get("x-openstack-request-id")).toBe(res.headers.get("x-compute-request-id"));
}

describe("the OpenStack face", () => {
  const ctx = useStack({ env: { ...authEnv, OPENSTACK_MAX_PAGE: "2" } });
  const api = client(() => ctx.stack.url);
  let tenant: { id: string; key: string; keyId: string };
  let token = "";
  let compute = "";
  const h = () => ({ "x-auth-token": token });
  const ids = { image: "", vm1: "", vm2: "" };

  const issue = async (body: unknown, headers: Record<string, string> = {}) =>
    api.post("/identity/v3/auth/tokens", body, headers);
  const server = async (id: string) => (await api.get(`${compute}/servers/${id}`, h())).body.server;
  const until = (id: string, status: string) =>
    eventually(
      async () => {
        const s = await server(id);
        return s?.status === status ? s : undefined;
      },
      10_000,
      `${id} ${status}`,
    );

  it("serves Identity v3: version documents, tokens by password, key and application credential", async () => {
    tenant = await newTenant(ctx.stack.url, "acme");
    const patched = await keyed(ctx.stack.url, ADMIN_KEY).call("PATCH", `/admin/tenants/${tenant.id}`, {
      max_servers: 2,
    });
    expect(patched.status).toBe(200);

    const host = new URL(ctx.stack.url).host;
    const version = await api.get("/identity/v3");
    expect(version.status).toBe(200);
    expect(version.body.version).toMatchObject({ id: "v3.14", status: "stable" });
    expect(version.body.version.links).toContainEqual({ rel: "self", href: `http://${host}/identity/v3/` });
    expect((await api.get("/identity")).body.versions.values[0].id).toBe("v3.14");

    const issued = await issue(passwordAuth("acme", tenant.key, "acme"));
    expect(issued.status, JSON.stringify(issued.body)).toBe(201);
    token = issued.headers.get("x-subject-token") ?? "";
    expect(token).toMatch(/^cso_/);
    expect(issued.headers.get("x-openstack-request-id")).toMatch(/^req-/);
    const body = issued.body.token;
    expect(body.methods).toEqual(["password"]);
    expect(body.project).toMatchObject({ id: tenant.id, name: "acme" });
    expect(body.user).toMatchObject({ id: tenant.id, name: "acme" });
    expect(Date.parse(body.expires_at)).toBeGreaterThan(Date.now());
    expect(body.catalog.map((s: { type: string }) => s.type).sort()).toEqual([
      "compute",
      "identity",
      "image",
      "network",
    ]);
    const networkService = body.catalog.find((s: { type: string }) => s.type === "network");
    expect(networkService.endpoints.map((e: { url: string }) => e.url)).toContain(
      `http://${host}/network/us-east-1`,
    );
    const computeService = body.catalog.find((s: { type: string }) => s.type === "compute");
    const east = computeService.endpoints.find((e: { region_id: string }) => e.region_id === "us-east-1");
    expect(east).toMatchObject({ interface: "public", url: `http://${host}/compute/us-east-1/v2.1` });
    expect(computeService.endpoints).toHaveLength(5);
    compute = new URL(east.url).pathname;

    // The tenant's id names it as well as its name; the key alone as token or application credential.
    expect((await issue(passwordAuth(tenant.id, tenant.key))).status).toBe(201);
    const byKey = await issue({ auth: { identity: { methods: ["token"], token: { id: tenant.key } } } });
    expect(byKey.status).toBe(201);
    expect(byKey.body.token.project.id).toBe(tenant.id);
    const byToken = await issue({ auth: { identity: { methods: ["token"], token: { id: token } } } });
    expect(byToken.status).toBe(201);
    const appCred = await issue({
      auth: {
        identity: {
          methods: ["application_credential"],
          application_credential: { id: tenant.keyId, secret: tenant.key },
        },
      },
    });
    expect(appCred.status, JSON.stringify(appCred.body)).toBe(201);
    expect(appCred.body.token.project.id).toBe(tenant.id);

    const validated = await api.get("/identity/v3/auth/tokens", {
      "x-auth-token": token,
      "x-subject-token": token,
    });
    expect(validated.status).toBe(200);
    expect(validated.body.token.project.id).toBe(tenant.id);
  });

  it("refuses wrong credentials with Keystone's 401", async () => {
    for (const body of [
      passwordAuth("acme", "wrong"),
      passwordAuth("someone-else", tenant.key),
      passwordAuth("acme", tenant.key, "another-project"),
      { auth: { identity: { methods: ["token"], token: { id: "cso_v1.forged.token" } } } },
      {
        auth: {
          identity: {
            methods: ["application_credential"],
            application_credential: { id: "another-key", secret: tenant.key },
          },
        },
      },
    ]) {
      const res = await issue(body);
      expect(res.status, JSON.stringify(body)).toBe(401);
      expect(res.body).toEqual(unauthorizedBody);
    }
    const malformed = await issue({ auth: { identity: { methods: "password" } } });
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.message).toMatch(/identity\.methods/);
    // Compute and image calls without a token, or with an altered one, are Nova's and Keystone's 401.
    expectFault(await api.get(`${compute}/servers`), 401, "unauthorized");
    expectFault(
      await api.get(`${compute}/servers`, { "x-auth-token": `${token.slice(0, -2)}xx` }),
      401,
      "unauthorized",
    );
    expect((await api.get("/image/v2/images")).body).toEqual(unauthorizedBody);
  });

  it("serves the compute version documents and negotiates microversions", async () => {
    const root = await api.get(`${compute}/`);
    expect(root.status).toBe(200);
    expect(root.body.version).toMatchObject({
      id: "v2.1",
      status: "CURRENT",
      version: "2.47",
      min_version: "2.1",
    });
    expect((await api.get(compute)).body.version.id).toBe("v2.1");
    expect((await api.get("/compute/v2.1")).body.version.links[0].href).toMatch(/\/compute\/v2\.1\/$/);
    expect((await api.get("/compute/us-east-1")).body.versions.map((v: { id: string }) => v.id)).toEqual([
      "v2.0",
      "v2.1",
    ]);
    const at = await api.get(`${compute}/flavors`, { ...h(), "openstack-api-version": "compute 2.26" });
    expect(at.headers.get("openstack-api-version")).toBe("compute 2.26");
    expect(at.headers.get("x-openstack-nova-api-version")).toBe("2.26");
    expect(at.headers.get("vary")).toMatch(/OpenStack-API-Version/);
    expect((await api.get(`${compute}/flavors`, h())).headers.get("x-openstack-nova-api-version")).toBe(
      "2.1",
    );
    expectFault(
      await api.get(`${compute}/flavors`, { ...h(), "openstack-api-version": "compute 2.61" }),
      406,
      "notAcceptable",
      "Version 2.61 is not supported by the API. Minimum is 2.1 and maximum is 2.47.",
    );
  });

  it("lists flavors from the instance types, with extra specs, and availability zones", async () => {
    const detail = await api.get(`${compute}/flavors/detail?is_public=True&limit=100`, h());
    expect(detail.status).toBe(200);
    expect(detail.body.flavors).toHaveLength(2); // OPENSTACK_MAX_PAGE
    expect(detail.body.flavors_links[0].href).toMatch(/marker=t2.micro/);
    const micro = await api.get(`${compute}/flavors/t2.micro`, h());
    expect(micro.body.flavor).toMatchObject({ id: "t2.micro", name: "t2.micro", ram: 1024, vcpus: 1 });
    expect((await api.get(`${compute}/flavors/t2.micro/os-extra_specs`, h())).body).toEqual({
      extra_specs: {},
    });
    expectFault(
      await api.get(`${compute}/flavors/x1.huge`, h()),
      404,
      "itemNotFound",
      "Flavor x1.huge could not be found.",
    );
    const zones = await api.get(`${compute}/os-availability-zone`, h());
    expect(zones.body.availabilityZoneInfo.map((z: { zoneName: string }) => z.zoneName)).toEqual([
      "us-east-1a",
      "us-east-1b",
      "us-east-1c",
    ]);
  });

  it("lists images from the AMI catalogue, with UUIDs, name filter and next links", async () => {
    const versions = await api.get("/image/");
    expect(versions.body.versions[0]).toMatchObject({ id: "v2.16", status: "CURRENT" });
    const first = await api.get("/image/v2/images?limit=2", h());
    expect(first.status).toBe(200);
    expect(first.body.images).toHaveLength(2);
    expect(first.body.next).toMatch(/^\/v2\/images\?.*marker=/);
    const rest = await api.get(`/image${first.body.next}`, h());
    expect(rest.body.images).toHaveLength(1);
    expect(rest.body.next).toBeUndefined();
    const debian = await api.get("/image/v2/images?name=cloudsim-debian-12", h());
    expect(debian.body.images).toHaveLength(1);
    const image = debian.body.images[0];
    expect(image).toMatchObject({
      name: "cloudsim-debian-12",
      status: "active",
      ec2_image_id: "ami-0d2b8e9f3a4c5b6d7",
    });
    expect(image.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5/);
    expect((await api.get(`/image/v2/images/${image.id}`, h())).body).toMatchObject({ id: image.id });
    expect((await api.get("/image/v2/images/ami-0d2b8e9f3a4c5b6d7", h())).body).toMatchObject({
      id: image.id,
    });
    expect((await api.get("/image/v2/images/cirros", h())).status).toBe(404);
    ids.image = image.id;
  });

  it("creates servers that become ACTIVE, up to the quota, and refuses bad input with 400", async () => {
    const created = await api.post(
      `${compute}/servers`,
      { server: { name: "vm1", imageRef: ids.image, flavorRef: "t2.micro", metadata: { role: "web" } } },
      h(),
    );
    expect(created.status, JSON.stringify(created.body)).toBe(202);
    expect(created.body.server.adminPass).toMatch(/^.{8,}$/);
    expect(created.headers.get("location")).toMatch(
      new RegExp(`/compute/us-east-1/v2.1/servers/${created.body.server.id}$`),
    );
    ids.vm1 = created.body.server.id;
    const building = await server(ids.vm1);
    expect(building).toMatchObject({
      status: "BUILD",
      "OS-EXT-STS:vm_state": "building",
      metadata: { role: "web" },
    });

    const second = await api.post(
      `${compute}/servers`,
      {
        server: {
          name: "vm2",
          imageRef: "ami-0d2b8e9f3a4c5b6d7",
          flavorRef: "t2.micro",
          min_count: 1,
          max_count: 1,
        },
      },
      h(),
    );
    expect(second.status, JSON.stringify(second.body)).toBe(202);
    ids.vm2 = second.body.server.id;

    const active = await until(ids.vm1, "ACTIVE");
    expect(active).toMatchObject({
      name: "vm1",
      tenant_id: tenant.id,
      "OS-EXT-STS:vm_state": "active",
      "OS-EXT-STS:task_state": null,
      "OS-EXT-STS:power_state": 1,
      "OS-EXT-AZ:availability_zone": "us-east-1a",
      flavor: { id: "t2.micro" },
      image: { id: ids.image },
    });
    expect(active.addresses.private[0]).toMatchObject({
      version: 4,
      addr: expect.stringMatching(/^10\.0\./),
    });
    await until(ids.vm2, "ACTIVE");
    const at47 = await api.get(`${compute}/servers/${ids.vm1}`, {
      ...h(),
      "openstack-api-version": "compute 2.47",
    });
    expect(at47.body.server.flavor).toMatchObject({ original_name: "t2.micro", ram: 1024, vcpus: 1 });
    expect(at47.body.server.tags).toEqual([]);

    // One server is one server: the REST API shows the same.
    const rest = await keyed(ctx.stack.url, tenant.key).get(`/servers/${ids.vm1}`);
    expect(rest.body).toMatchObject({ id: ids.vm1, name: "vm1", state: "running", tags: { role: "web" } });

    expectFault(
      await api.post(
        `${compute}/servers`,
        { server: { name: "vm3", imageRef: ids.image, flavorRef: "t2.micro" } },
        h(),
      ),
      403,
      "forbidden",
      "Quota exceeded for instances: Requested 1, but already used 2 of 2 instances",
    );
    expectFault(
      await api.post(
        `${compute}/servers`,
        { server: { name: "vm3", imageRef: "cirros", flavorRef: "t2.micro" } },
        h(),
      ),
      400,
      "badRequest",
      "Can not find requested image",
    );
    expectFault(
      await api.post(`${compute}/servers`, { server: { name: "vm3", imageRef: ids.image } }, h()),
      400,
      "badRequest",
      /flavorRef/,
    );
    expectFault(
      await api.post(
        `${compute}/servers`,
        { server: { name: "vm3", imageRef: ids.image, flavorRef: "x1" } },
        h(),
      ),
      400,
      "badRequest",
      "Invalid flavorRef provided.",
    );
    expectFault(await api.post(`${compute}/servers`, "not json", h()), 400, "badRequest");
  });

  it("lists servers with filters and marker paging", async () => {
    const all = await api.get(`${compute}/servers/detail`, h());
    expect(all.body.servers.map((s: { id: string }) => s.id)).toEqual([ids.vm2, ids.vm1]);
    const named = await api.get(`${compute}/servers/detail?name=^vm1$`, h());
    expect(named.body.servers.map((s: { name: string }) => s.name)).toEqual(["vm1"]);
    expect((await api.get(`${compute}/servers/detail?name=vm`, h())).body.servers).toHaveLength(2);
    expect((await api.get(`${compute}/servers/detail?status=ACTIVE`, h())).body.servers).toHaveLength(2);
    expect((await api.get(`${compute}/servers/detail?status=SHUTOFF`, h())).body.servers).toHaveLength(0);
    expect(
      (await api.get(`${compute}/servers/detail?flavor=t2.micro&image=${ids.image}`, h())).body.servers,
    ).toHaveLength(2);
    expect((await api.get(`${compute}/servers/detail?flavor=t2.nano`, h())).body.servers).toHaveLength(0);
    // Another region's endpoint sees none of them.
    expect((await api.get("/compute/eu-west-1/v2.1/servers", h())).body.servers).toEqual([]);

    const first = await api.get(`${compute}/servers?limit=1`, h());
    expect(first.body.servers).toEqual([{ id: ids.vm2, name: "vm2", links: expect.any(Array) }]);
    const next = new URL(first.body.servers_links[0].href);
    expect(next.searchParams.get("marker")).toBe(ids.vm2);
    const second = await api.get(`${next.pathname}${next.search}`, h());
    expect(second.body.servers.map((s: { id: string }) => s.id)).toEqual([ids.vm1]);
    const third = await api.get(`${compute}/servers?limit=1&marker=${ids.vm1}`, h());
    expect(third.body).toEqual({ servers: [] });
    expectFault(await api.get(`${compute}/servers?limit=-1`, h()), 400, "badRequest", /limit/);
    expectFault(await api.get(`${compute}/servers?marker=nope`, h()), 400, "badRequest", /marker/);
    expectFault(
      await api.get(`${compute}/servers/nope`, h()),
      404,
      "itemNotFound",
      "Instance nope could not be found.",
    );
  });

  it("stops, starts and reboots, with Nova's 409, and shows the actions from the log", async () => {
    const requestIds: Record<string, string | null> = {};
    const act = async (body: unknown) => {
      const res = await api.post(`${compute}/servers/${ids.vm1}/action`, body, h());
      expect(res.status, JSON.stringify(res.body)).toBe(202);
      return res.headers.get("x-openstack-request-id");
    };
    requestIds.stop = await act({ "os-stop": null });
    const stopping = await server(ids.vm1);
    expect(["ACTIVE", "SHUTOFF"]).toContain(stopping.status);
    const stopped = await until(ids.vm1, "SHUTOFF");
    expect(stopped).toMatchObject({ "OS-EXT-STS:vm_state": "stopped", "OS-EXT-STS:power_state": 4 });
    expectFault(
      await api.post(`${compute}/servers/${ids.vm1}/action`, { "os-stop": null }, h()),
      409,
      "conflictingRequest",
      `Cannot 'stop' instance ${ids.vm1} while it is in vm_state stopped`,
    );
    requestIds.start = await act({ "os-start": null });
    await until(ids.vm1, "ACTIVE");
    requestIds.reboot = await act({ reboot: { type: "HARD" } });
    await until(ids.vm1, "ACTIVE");
    expectFault(
      await api.post(`${compute}/servers/${ids.vm1}/action`, { pause: null }, h()),
      400,
      "badRequest",
      /no such action/,
    );
    expectFault(
      await api.post(`${compute}/servers/${ids.vm1}/action`, { reboot: { type: "GENTLE" } }, h()),
      400,
      "badRequest",
      /reboot\/type/,
    );

    const listed = await api.get(`${compute}/servers/${ids.vm1}/os-instance-actions`, h());
    expect(listed.status).toBe(200);
    const actions = listed.body.instanceActions as {
      action: string;
      request_id: string;
      instance_uuid: string;
    }[];
    expect(actions.map((a) => a.action)).toEqual(["reboot", "start", "stop", "create"]);
    expect(actions[0]?.request_id).toBe(requestIds.reboot);
    expect(actions[1]?.request_id).toBe(requestIds.start);
    expect(actions[2]?.request_id).toBe(requestIds.stop);
    const shown = await api.get(`${compute}/servers/${ids.vm1}/os-instance-actions/${requestIds.stop}`, h());
    expect(shown.body.instanceAction).toMatchObject({ action: "stop", instance_uuid: ids.vm1 });
  });

  it("deletes a server: 204, then 404, its actions still listed", async () => {
    const deleted = await api.call("DELETE", `${compute}/servers/${ids.vm1}`, undefined, h());
    expect(deleted.status).toBe(204);
    await eventually(async () =>
      (await api.get(`${compute}/servers/${ids.vm1}`, h())).status === 404 ? true : undefined,
    );
    expectFault(
      await api.get(`${compute}/servers/${ids.vm1}`, h()),
      404,
      "itemNotFound",
      `Instance ${ids.vm1} could not be found.`,
    );
    const actions = await api.get(`${compute}/servers/${ids.vm1}/os-instance-actions`, h());
    expect(actions.body.instanceActions[0].action).toBe("delete");
    expect(
      (await api.get(`${compute}/servers/detail`, h())).body.servers.map((s: { id: string }) => s.id),
    ).toEqual([ids.vm2]);
  });
});

describe("OpenStack tokens", () => {
  const ctx = useStack({ env: { ...authEnv, OPENSTACK_TOKEN_TTL: "1s" } });

  it("expire, and then are Keystone's and Nova's 401", async () => {
    const api = client(() => ctx.stack.url);
    const tenant = await newTenant(ctx.stack.url, "brief");
    const issued = await api.post("/identity/v3/auth/tokens", passwordAuth("brief", tenant.key));
    expect(issued.status).toBe(201);
    const token = issued.headers.get("x-subject-token") ?? "";
    const headers = { "x-auth-token": token };
    expect((await api.get("/compute/us-east-1/v2.1/servers", headers)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 1_200));
    expectFault(await api.get("/compute/us-east-1/v2.1/servers", headers), 401, "unauthorized");
    const renewed = await api.post("/identity/v3/auth/tokens", {
      auth: { identity: { methods: ["token"], token: { id: token } } },
    });
    expect(renewed.body).toEqual(unauthorizedBody);
  });
});
