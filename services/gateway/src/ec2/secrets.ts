import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from "node:crypto";

// SigV4 needs the secret itself on the server (unlike a password, it cannot be hashed), so it is kept
// encrypted under a key the operator configures.
const VERSION = "v1";
const CIPHER = "aes-256-gcm";
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;
const MIN_PASSPHRASE_LENGTH = 16;
const HKDF_SALT = "cloudsim-aws-secrets";
const BASE64URL = /^[A-Za-z0-9_-]+$/;

/** The 32-byte sealing key from the configured passphrase (at least 16 characters), by HKDF-SHA256. */
export function masterKeyFrom(text: string): Buffer {
  if (text.length < MIN_PASSPHRASE_LENGTH)
    throw new Error(`the AWS secrets master key must be at least ${MIN_PASSPHRASE_LENGTH} characters long`);
  return Buffer.from(hkdfSync("sha256", text, HKDF_SALT, "", KEY_BYTES));
}

function checkKey(masterKey: Buffer): void {
  if (masterKey.length !== KEY_BYTES) throw new Error(`the master key must be ${KEY_BYTES} bytes`);
}

/** `v1.<base64url iv>.<base64url ciphertext+tag>`, AES-256-GCM with a fresh random IV. */
export function sealSecret(secret: string, masterKey: Buffer): string {
  checkKey(masterKey);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv(CIPHER, masterKey, iv);
  const sealed = Buffer.concat([cipher.update(secret, "utf8"), cipher.final(), cipher.getAuthTag()]);
  return [VERSION, iv.toString("base64url"), sealed.toString("base64url")].join(".");
}

/** The secret back; throws when the text is not a sealed secret or was altered, or the key is another. */
export function openSecret(sealed: string, masterKey: Buffer): string {
  checkKey(masterKey);
  const [version, ivText = "", payloadText = "", ...extra] = sealed.split(".");
  if (version !== VERSION || extra.length > 0 || !BASE64URL.test(ivText) || !BASE64URL.test(payloadText))
    throw new Error("not a sealed secret");
  const iv = Buffer.from(ivText, "base64url");
  const payload = Buffer.from(payloadText, "base64url");
  if (iv.length !== IV_BYTES || payload.length < TAG_BYTES) throw new Error("not a sealed secret");
  const decipher = createDecipheriv(CIPHER, masterKey, iv, { authTagLength: TAG_BYTES });
  decipher.setAuthTag(payload.subarray(payload.length - TAG_BYTES));
  try {
    return Buffer.concat([
      decipher.update(payload.subarray(0, payload.length - TAG_BYTES)),
      decipher.final(),
    ]).toString("utf8");
  } catch (cause) {
    throw new Error("the sealed secret was altered or sealed with another key", { cause });
  }
}
