import { createHash, createPublicKey, generateKeyPairSync, type KeyObject, randomBytes } from "node:crypto";
import { invalidKeyFormat } from "./errors.ts";

/** The key types EC2 makes and imports. */
export type KeyType = "rsa" | "ed25519";

/** A public key as EC2 keeps it: its OpenSSH line and the fingerprint EC2 shows. */
export interface PublicKey {
  type: KeyType;
  /** `ssh-rsa AAAA… comment`, as authorized_keys holds it. */
  line: string;
  fingerprint: string;
}

/** A key pair made for CreateKeyPair: the private key is answered once and kept nowhere. */
export interface NewKeyPair extends PublicKey {
  privateKey: string;
}

const RSA_BITS = 2048;
const MIN_RSA_BITS = 1024;
const MAX_RSA_BITS = 16_384;

/** SSH wire encoding (RFC 4251): a string or mpint is a 4-byte length and its bytes. */
function sshString(bytes: Buffer | string): Buffer {
  const body = typeof bytes === "string" ? Buffer.from(bytes) : bytes;
  const length = Buffer.alloc(4);
  length.writeUInt32BE(body.length);
  return Buffer.concat([length, body]);
}

/** An unsigned big-endian integer as an mpint: a leading zero when its top bit is set. */
function sshMpint(unsigned: Buffer): Buffer {
  let start = 0;
  while (start < unsigned.length - 1 && unsigned[start] === 0) start++;
  const trimmed = unsigned.subarray(start);
  return sshString((trimmed[0] ?? 0) & 0x80 ? Buffer.concat([Buffer.from([0]), trimmed]) : trimmed);
}

const colonHex = (digest: Buffer) => digest.toString("hex").match(/../g)?.join(":") ?? "";

/** EC2's fingerprint of an RSA key it made: the SHA-1 of the private key's PKCS#8 DER, in colon hex. */
export const createdRsaFingerprint = (privateKey: KeyObject) =>
  colonHex(
    createHash("sha1")
      .update(privateKey.export({ type: "pkcs8", format: "der" }))
      .digest(),
  );

/** ssh-keygen's SHA256 fingerprint of a public key blob: base64 without padding. */
const sha256Fingerprint = (blob: Buffer) =>
  createHash("sha256").update(blob).digest("base64").replace(/=+$/, "");

function rsaBlob(key: KeyObject): Buffer {
  const jwk = key.export({ format: "jwk" });
  return Buffer.concat([
    sshString("ssh-rsa"),
    sshMpint(Buffer.from(jwk.e ?? "", "base64url")),
    sshMpint(Buffer.from(jwk.n ?? "", "base64url")),
  ]);
}

const ed25519Blob = (raw: Buffer) => Buffer.concat([sshString("ssh-ed25519"), sshString(raw)]);

const sshLine = (blob: Buffer, comment: string) =>
  `${blob.subarray(4, 4 + blob.readUInt32BE(0)).toString()} ${blob.toString("base64")}${comment ? ` ${comment}` : ""}`;

/**
 * OpenSSH's own private key format (PROTOCOL.key), unencrypted, as EC2 answers ed25519 keys:
 * the public blob, then a section of two equal check numbers, the key and its comment, padded.
 */
function opensshPrivateKey(blob: Buffer, seed: Buffer, raw: Buffer, comment: string): string {
  const check = randomBytes(4);
  let section = Buffer.concat([
    check,
    check,
    sshString("ssh-ed25519"),
    sshString(raw),
    sshString(Buffer.concat([seed, raw])),
    sshString(comment),
  ]);
  const padding = Array.from({ length: (8 - (section.length % 8)) % 8 }, (_, i) => i + 1);
  section = Buffer.concat([section, Buffer.from(padding)]);
  const body = Buffer.concat([
    Buffer.from("openssh-key-v1\0"),
    sshString("none"),
    sshString("none"),
    sshString(""),
    Buffer.from([0, 0, 0, 1]),
    sshString(blob),
    sshString(section),
  ]);
  const lines = body.toString("base64").match(/.{1,70}/g) ?? [];
  return ["-----BEGIN OPENSSH PRIVATE KEY-----", ...lines, "-----END OPENSSH PRIVATE KEY-----", ""].join(
    "\n",
  );
}

/**
 * A new key pair as CreateKeyPair makes it: RSA 2048 as PKCS#1 PEM, fingerprinted as EC2
 * fingerprints keys it made (the SHA-1 of the private key's PKCS#8 DER); ed25519 in OpenSSH's
 * format, fingerprinted as ssh-keygen shows it (SHA-256 of the public blob). `name` is the comment.
 */
export function generateKeyPair(type: KeyType, name: string): NewKeyPair {
  if (type === "rsa") {
    const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: RSA_BITS });
    return {
      type,
      line: sshLine(rsaBlob(publicKey), name),
      fingerprint: createdRsaFingerprint(privateKey),
      privateKey: privateKey.export({ type: "pkcs1", format: "pem" }).toString(),
    };
  }
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  const raw = Buffer.from(publicKey.export({ format: "jwk" }).x ?? "", "base64url");
  const seed = Buffer.from(privateKey.export({ format: "jwk" }).d ?? "", "base64url");
  const blob = ed25519Blob(raw);
  return {
    type,
    line: sshLine(blob, name),
    fingerprint: sha256Fingerprint(blob),
    privateKey: opensshPrivateKey(blob, seed, raw, name),
  };
}

/** Reads the SSH strings of a blob, in order; InvalidKey.Format when it does not divide into them. */
function sshFields(blob: Buffer): Buffer[] {
  const fields: Buffer[] = [];
  for (let at = 0; at < blob.length; ) {
    if (at + 4 > blob.length) throw invalidKeyFormat("the key data is truncated");
    const length = blob.readUInt32BE(at);
    if (at + 4 + length > blob.length) throw invalidKeyFormat("the key data is truncated");
    fields.push(blob.subarray(at + 4, at + 4 + length));
    at += 4 + length;
  }
  return fields;
}

function rsaPublicKey(fields: Buffer[]): KeyObject {
  const [, e, n] = fields;
  if (fields.length !== 3 || !e || !n)
    throw invalidKeyFormat("an ssh-rsa key holds an exponent and a modulus");
  const unsigned = (b: Buffer) => (b[0] === 0 ? b.subarray(1) : b);
  const bits = unsigned(n).length * 8;
  if (bits < MIN_RSA_BITS || bits > MAX_RSA_BITS)
    throw invalidKeyFormat(`RSA keys must be ${MIN_RSA_BITS} to ${MAX_RSA_BITS} bits`);
  try {
    return createPublicKey({
      key: { kty: "RSA", n: unsigned(n).toString("base64url"), e: unsigned(e).toString("base64url") },
      format: "jwk",
    });
  } catch {
    throw invalidKeyFormat("the RSA key is not valid");
  }
}

/**
 * An OpenSSH public key line (`ssh-rsa AAAA… comment` or `ssh-ed25519 …`), as ImportKeyPair
 * takes it once base64-decoded, fingerprinted as EC2 fingerprints imported keys: RSA by the MD5
 * of its DER SubjectPublicKeyInfo, ed25519 by the SHA-256 of its blob. InvalidKey.Format otherwise.
 */
export function parsePublicKey(text: string): PublicKey {
  const [algorithm, data, ...comment] = text.trim().split(/\s+/);
  if (algorithm !== "ssh-rsa" && algorithm !== "ssh-ed25519")
    throw invalidKeyFormat("only ssh-rsa and ssh-ed25519 keys can be imported");
  if (!data || !/^[A-Za-z0-9+/]+={0,2}$/.test(data)) throw invalidKeyFormat("the key data is not base64");
  const blob = Buffer.from(data, "base64");
  const fields = sshFields(blob);
  if (fields[0]?.toString() !== algorithm) throw invalidKeyFormat(`the key data is not an ${algorithm} key`);
  const line = `${algorithm} ${blob.toString("base64")}${comment.length ? ` ${comment.join(" ")}` : ""}`;
  if (algorithm === "ssh-rsa") {
    const der = rsaPublicKey(fields).export({ type: "spki", format: "der" });
    return { type: "rsa", line, fingerprint: colonHex(createHash("md5").update(der).digest()) };
  }
  if (fields.length !== 2 || fields[1]?.length !== 32)
    throw invalidKeyFormat("an ssh-ed25519 key holds 32 bytes");
  return { type: "ed25519", line, fingerprint: sha256Fingerprint(blob) };
}

/** Nova's fingerprint of an OpenSSH public key line: the MD5 of its blob, in colon hex. */
export function md5Fingerprint(line: string): string {
  const data = line.trim().split(/\s+/)[1] ?? "";
  return colonHex(createHash("md5").update(Buffer.from(data, "base64")).digest());
}
