import { expect } from "vitest";
import { type Answer, client, eventually } from "./harness.ts";

export const ADMIN_KEY = "admin-test-key-0123456789abcdef";

/** The env of a stack whose API needs keys. */
export const authEnv = { AUTH_REQUIRED: "true", ADMIN_API_KEY: ADMIN_KEY };

export const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

/** A client that sends `key` on every request. */
export function keyed(url: string, key: string) {
  const api = client(url);
  const h = bearer(key);
  return {
    get: (path: string) => api.get(path, h),
    post: (path: string, body?: unknown, headers: Record<string, string> = {}) =>
      api.post(path, body, { ...h, ...headers }),
    call: (method: string, path: string, body?: unknown) => api.call(method, path, body, h),
  };
}
export type Keyed = ReturnType<typeof keyed>;

/** A new tenant and one key of it, made with the admin key. */
export async function newTenant(url: string, name: string) {
  const admin = keyed(url, ADMIN_KEY);
  const tenant = await admin.post("/admin/tenants", { name });
  expect(tenant.status, JSON.stringify(tenant.body)).toBe(201);
  const key = await admin.post(`/admin/tenants/${tenant.body.id}/keys`);
  expect(key.status, JSON.stringify(key.body)).toBe(201);
  return { id: tenant.body.id as string, keyId: key.body.id as string, key: key.body.key as string };
}

export function expectProblem(res: Answer, status: number, code: string) {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.headers.get("content-type")).toMatch(/^application\/problem\+json/);
  expect(res.body.code).toBe(code);
}

/** Provisions a server with `api` and waits until it runs. */
export async function runningServer(api: Keyed, region = "us-east-1", type = "t2.nano") {
  const created = await api.post("/servers", { region, type });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const id = created.body.id as string;
  await eventually(async () =>
    (await api.get(`/servers/${id}`)).body.state === "running" ? true : undefined,
  );
  return id;
}
