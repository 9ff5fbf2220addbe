import {
  type KeyPair,
  KeyType,
  keyPairFilterNames,
  keyPairs,
  MAX_KEY_PAIR_PAGE,
  MAX_KEY_PAIRS,
} from "@cloudsim/shared";
import { type Ec2Action, type Ec2Request, requestContext, unlessDryRun } from "../context.ts";
import { Ec2Error, invalidKeyFormat, invalidParameterValue, missingParameter } from "../errors.ts";
import { checkFilterNames } from "../filters.ts";
import { generateKeyPair, parsePublicKey } from "../key-material.ts";
import { collectAll } from "../pages.ts";
import { bool, type Ec2Params, filters, list, str } from "../query.ts";
import { tagSetXml } from "../render.ts";
import { tagSpecifications } from "../tag-specifications.ts";
import { type XmlObject, xmlList } from "../xml.ts";

/** A key pair's scope: the caller's tenant (every tenant's for the admin key) in the signed region. */
const scopeOf = (request: Ec2Request) => ({ tenant_id: request.scope, region: request.region });

/** KeyName: 1 to 255 ASCII characters, as EC2 takes it. */
function keyName(params: Ec2Params): string {
  const name = str(params, "KeyName", { required: true, max: 255 });
  if (!/^[\x20-\x7e]+$/.test(name)) throw invalidParameterValue("KeyName", name, "Key names are ASCII.");
  return name;
}

function keyType(params: Ec2Params) {
  const given = str(params, "KeyType") ?? "rsa";
  const type = KeyType.safeParse(given);
  if (!type.success) throw invalidParameterValue("KeyType", given, "Expecting rsa or ed25519.");
  return type.data;
}

/** The key a create or import made, as both answer it. */
const keyXml = (key: KeyPair): XmlObject => ({
  keyName: key.key_name,
  keyFingerprint: key.fingerprint,
  keyPairId: key.key_pair_id,
  tagSet: tagSetXml(key.tags),
});

const keep = (
  request: Ec2Request,
  name: string,
  key: { type: KeyType; line: string; fingerprint: string },
  tags: Record<string, string>,
) =>
  request.bus.request(
    keyPairs.create,
    {
      tenant_id: request.owner,
      region: request.region,
      key_name: name,
      key_type: key.type,
      fingerprint: key.fingerprint,
      public_key: key.line,
      tags,
    },
    requestContext(request),
  );

/** A new key pair: the private key is in this answer and nowhere else (lifecycle keeps the public half). */
const createKeyPair: Ec2Action = async (request) => {
  const { params } = request;
  const name = keyName(params);
  const type = keyType(params);
  const format = str(params, "KeyFormat") ?? "pem";
  if (format === "ppk")
    throw invalidParameterValue("KeyFormat", format, "cloudsim makes keys in pem format only: ask for pem.");
  if (format !== "pem") throw invalidParameterValue("KeyFormat", format, "Expecting pem or ppk.");
  const tags = tagSpecifications(params, "key-pair");
  unlessDryRun(request);
  const made = generateKeyPair(type, name);
  const key = await keep(request, name, made, tags);
  return { ...keyXml(key), keyMaterial: made.privateKey };
};

/** A public key of the caller's own: PublicKeyMaterial is the base64 of its OpenSSH line. */
const importKeyPair: Ec2Action = async (request) => {
  const { params } = request;
  const name = keyName(params);
  const material = str(params, "PublicKeyMaterial", { required: true, max: 8192 });
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(material)) throw invalidKeyFormat("PublicKeyMaterial is not base64");
  const line = Buffer.from(material, "base64").toString("utf8");
  if (line.length > 4096) throw invalidKeyFormat("the key is longer than 4096 characters");
  const publicKey = parsePublicKey(line);
  const tags = tagSpecifications(params, "key-pair");
  unlessDryRun(request);
  return keyXml(await keep(request, name, publicKey, tags));
};

/** Every key pair that matches, a lifecycle page after another (EC2 does not page this answer). */
const describeKeyPairs: Ec2Action = async (request) => {
  const { params } = request;
  const names = list(params, "KeyName", { max: MAX_KEY_PAIRS });
  const ids = list(params, "KeyPairId", { max: MAX_KEY_PAIRS });
  const given = filters(params);
  checkFilterNames(given, keyPairFilterNames, true);
  const withPublicKey = bool(params, "IncludePublicKey") ?? false;
  unlessDryRun(request);
  const found = await collectAll(
    (limit, cursor) =>
      request.bus.request(
        keyPairs.describe,
        {
          ...scopeOf(request),
          names: names.length ? names : undefined,
          ids: ids.length ? ids : undefined,
          filters: given as never,
          limit,
          cursor,
        },
        requestContext(request),
      ),
    MAX_KEY_PAIR_PAGE,
    MAX_KEY_PAIRS,
    "key pairs",
  );
  return {
    keySet: xmlList(
      found.map((key) => ({
        keyPairId: key.key_pair_id,
        keyFingerprint: key.fingerprint,
        keyName: key.key_name,
        keyType: key.key_type,
        tagSet: tagSetXml(key.tags),
        publicKey: withPublicKey ? key.public_key : undefined,
        createTime: key.created_at,
      })),
    ),
  };
};

/** By name or id; a key pair that is not there is deleted already, as EC2 answers. */
const deleteKeyPair: Ec2Action = async (request) => {
  const { params } = request;
  const name = str(params, "KeyName", { max: 255 });
  const id = str(params, "KeyPairId", { max: 100 });
  if (name === undefined && id === undefined) throw missingParameter("KeyName or KeyPairId");
  if (name !== undefined && id !== undefined)
    throw new Ec2Error("InvalidParameterCombination", "Give KeyName or KeyPairId, not both.");
  unlessDryRun(request);
  const deleted = await request.bus.request(
    keyPairs.delete,
    { ...scopeOf(request), key_name: name, key_pair_id: id },
    requestContext(request),
  );
  return { return: true, keyPairId: deleted.key_pair_id };
};

export const keyPairActions: Record<string, Ec2Action> = {
  CreateKeyPair: createKeyPair,
  ImportKeyPair: importKeyPair,
  DescribeKeyPairs: describeKeyPairs,
  DeleteKeyPair: deleteKeyPair,
};
