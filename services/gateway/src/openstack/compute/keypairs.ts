import {
  AppError,
  KeyName,
  type KeyPair,
  keyPairs,
  MAX_KEY_PAIR_PAGE,
  MAX_KEY_PAIRS,
} from "@cloudsim/shared";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { z } from "zod";
import { Ec2Error } from "../../ec2/errors.ts";
import { generateKeyPair, md5Fingerprint, parsePublicKey } from "../../ec2/key-material.ts";
import { collectPages } from "../../ec2/pages.ts";
import { hiddenRoute, queryParam } from "../context.ts";
import { badRequest, forbidden, invalidField, OsError } from "../errors.ts";
import { pageSizeOf } from "../paging.ts";
import { zodField } from "./bodies.ts";
import { busContext, type ComputeEndpoint, minorOf, nextLinks, ownerOf, scopeOf } from "./context.ts";

/** POST /os-keypairs: a name, and a public key to import (none: one is made); `type` from 2.2. */
const CreateKeypairBody = z
  .object({
    keypair: z
      .object({
        name: KeyName,
        public_key: z.string().max(4096).optional(),
        type: z.enum(["ssh", "x509"]).optional(),
        user_id: z.string().max(255).optional(),
      })
      .strict(),
  })
  .strict();

/**
 * Nova's key pair names below 2.92 (this face's range): letters, digits, `_`, `-` and spaces
 * (nova/api/validation/validators.py `_validate_keypair_name_20`), fewer than EC2 takes.
 */
const NOVA_KEY_NAME = /^[A-Za-z0-9_ -]+$/;

const keypairNotFound = (name: string, user: string) =>
  new OsError(404, `Keypair ${name.slice(0, 255)} not found for user ${user}`);

/** A key as Nova answers it: its fingerprint is Nova's (MD5 of the key blob), its type `ssh`. */
function keypairBody(key: KeyPair, minor: number) {
  return {
    name: key.key_name,
    public_key: key.public_key,
    fingerprint: md5Fingerprint(key.public_key),
    ...(minor >= 2 && { type: "ssh" }),
  };
}

/** What a create imports or makes; a key that does not parse is Nova's 400. */
function keyMaterial(body: z.infer<typeof CreateKeypairBody>["keypair"]) {
  if (body.type === "x509") throw badRequest("Keypair type x509 is not supported: cloudsim keeps ssh keys.");
  if (body.public_key === undefined) return generateKeyPair("rsa", body.name);
  try {
    return parsePublicKey(body.public_key);
  } catch (err) {
    if (err instanceof Ec2Error) throw badRequest(`Keypair data is invalid: ${err.message}`);
    throw err;
  }
}

/** Nova's answers to a refused create: a taken name, the quota. */
function createRefusal(err: unknown, name: string): unknown {
  if (!(err instanceof AppError)) return err;
  if (err.details.reason === "key_pair_duplicate")
    return new OsError(409, `Key pair '${name}' already exists.`);
  if (err.details.reason === "key_pair_limit") return forbidden("Quota exceeded, too many key pairs.");
  return err;
}

/**
 * The caller's key pairs of the region, every page of lifecycle's: a tenant holds at most
 * MAX_KEY_PAIRS there; past that (the admin key sees every tenant's) the list is refused.
 */
async function allKeys(endpoint: ComputeEndpoint, request: FastifyRequest, names?: string[]) {
  const { items, nextToken } = await collectPages(
    (limit, cursor) =>
      endpoint.bus.request(
        keyPairs.describe,
        { tenant_id: scopeOf(request), region: endpoint.region, names, filters: [], limit, cursor },
        busContext(request),
      ),
    { pageSize: MAX_KEY_PAIR_PAGE, wanted: MAX_KEY_PAIRS },
  );
  if (nextToken !== undefined) throw badRequest(`More than ${MAX_KEY_PAIRS} key pairs: use a tenant's key.`);
  return items;
}

async function keyNamed(endpoint: ComputeEndpoint, request: FastifyRequest, name: string) {
  try {
    const [key] = await allKeys(endpoint, request, [name]);
    if (key) return key;
  } catch (err) {
    if (!(err instanceof AppError && err.code === "NOT_FOUND")) throw err;
  }
  throw keypairNotFound(name, ownerOf(request));
}

/** os-keypairs: create (import or make), list (paged from 2.35), show and delete, on lifecycle's key pairs. */
export function keypairRoutes(app: FastifyInstance, endpoint: ComputeEndpoint) {
  app.post("/v2.1/os-keypairs", hiddenRoute, async (request, reply) => {
    const parsed = CreateKeypairBody.safeParse(request.body);
    if (!parsed.success) throw zodField(parsed.error, "");
    const body = parsed.data.keypair;
    if (!NOVA_KEY_NAME.test(body.name))
      throw invalidField("keypair/name", "The keypair name contains unsafe characters.");
    const minor = minorOf(request);
    if (body.type !== undefined && minor < 2)
      throw badRequest(
        "Invalid input for field/attribute keypair. Additional properties are not allowed ('type' was unexpected)",
      );
    const made = keyMaterial(body);
    const key = await endpoint.bus
      .request(
        keyPairs.create,
        {
          tenant_id: ownerOf(request),
          region: endpoint.region,
          key_name: body.name,
          key_type: made.type,
          fingerprint: made.fingerprint,
          public_key: made.line,
        },
        busContext(request),
      )
      .catch((err: unknown) => {
        throw createRefusal(err, body.name);
      });
    const privateKey = "privateKey" in made ? { private_key: made.privateKey } : {};
    return reply
      .code(minor >= 2 ? 201 : 200)
      .send({ keypair: { ...keypairBody(key, minor), user_id: ownerOf(request), ...privateKey } });
  });

  app.get("/v2.1/os-keypairs", hiddenRoute, async (request) => {
    const minor = minorOf(request);
    const paged = minor >= 35;
    const size = paged ? pageSizeOf(request, endpoint.config.OPENSTACK_MAX_PAGE) : MAX_KEY_PAIRS;
    let keys = await allKeys(endpoint, request);
    const marker = paged ? queryParam(request, "marker") : undefined;
    if (marker !== undefined) {
      const at = keys.findIndex((key) => key.key_name === marker);
      if (at < 0) throw badRequest(`marker [${marker.slice(0, 255)}] not found`);
      keys = keys.slice(at + 1);
    }
    const page = keys.slice(0, size);
    const links = paged
      ? nextLinks(
          endpoint,
          request,
          "os-keypairs",
          page.map((key) => key.key_name),
          size,
        )
      : undefined;
    return {
      keypairs: page.map((key) => ({ keypair: keypairBody(key, minor) })),
      ...(links && { keypairs_links: links }),
    };
  });

  app.get<{ Params: { name: string } }>("/v2.1/os-keypairs/:name", hiddenRoute, async (request) => {
    const key = await keyNamed(endpoint, request, request.params.name);
    return {
      keypair: {
        ...keypairBody(key, minorOf(request)),
        id: Number.parseInt(key.key_pair_id.slice(-13), 16),
        user_id: ownerOf(request),
        created_at: key.created_at,
        updated_at: null,
        deleted: false,
        deleted_at: null,
      },
    };
  });

  app.delete<{ Params: { name: string } }>("/v2.1/os-keypairs/:name", hiddenRoute, async (request, reply) => {
    const key = await keyNamed(endpoint, request, request.params.name);
    await endpoint.bus.request(
      keyPairs.delete,
      { tenant_id: scopeOf(request), region: endpoint.region, key_pair_id: key.key_pair_id },
      busContext(request),
    );
    return reply.code(minorOf(request) >= 2 ? 204 : 202).send();
  });
}
