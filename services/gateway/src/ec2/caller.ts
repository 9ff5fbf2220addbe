import { AppError, type Bus, DEFAULT_TENANT, type Region, regions, tenants } from "@cloudsim/shared";
import type { FastifyRequest } from "fastify";
import { type Caller, hashKey, type KeyCacheConfig, revocableKeys } from "../auth.ts";
import type { GatewayConfig } from "../config.ts";
import { authFailure, Ec2Error, missingAuth } from "./errors.ts";
import { masterKeyFrom, openSecret } from "./secrets.ts";
import { parseAuthorization, type SigV4Header, verifySignature } from "./sigv4.ts";

export type Ec2AuthConfig = KeyCacheConfig &
  Pick<GatewayConfig, "ADMIN_API_KEY" | "AUTH_REQUIRED" | "AUTH_FAILURES_PER_MINUTE" | "AWS_SECRETS_KEY">;

/** The access key id that goes with ADMIN_API_KEY as its secret. */
export const ADMIN_ACCESS_KEY_ID = "admin";

/** A region named by a credential scope, or the default one of a request that is not signed. */
const DEFAULT_REGION: Region = "us-east-1";

interface Credentials {
  caller: Caller;
  secret: string;
  /** The SHA-256 of the secret, which a revocation names. */
  hash: string;
}

/** The passphrase API keys are sealed with: AWS_SECRETS_KEY, else ADMIN_API_KEY; null when neither is set. */
export function secretsKey(config: Pick<GatewayConfig, "AWS_SECRETS_KEY" | "ADMIN_API_KEY">): Buffer | null {
  const text = config.AWS_SECRETS_KEY || config.ADMIN_API_KEY;
  return text ? masterKeyFrom(text) : null;
}

/**
 * Who signed an EC2 request: the access key id in its SigV4 scope is an API key's id, the secret
 * the key itself (kept sealed by lifecycle, opened here), and the signature is checked. The
 * region comes from the scope. With AUTH_REQUIRED=false an unknown or missing key acts as
 * tenant `default`, unchecked.
 */
export function ec2Authenticator(bus: Bus, config: Ec2AuthConfig) {
  const masterKey = secretsKey(config);

  const credentialsOf = async (accessKeyId: string, requestId: string): Promise<Credentials | null> => {
    const found = await bus
      .request(tenants.awsCredentials, { key_id: accessKeyId }, { requestId })
      .catch((err: unknown) => {
        if (err instanceof AppError && (err.code === "UNAUTHORIZED" || err.code === "VALIDATION"))
          return null;
        throw err;
      });
    if (!found) return null;
    if (!found.sealed_secret)
      throw authFailure(
        "This API key was made before the EC2 API: make a new key to use it as AWS credentials.",
      );
    if (!masterKey)
      throw authFailure("The gateway has no AWS_SECRETS_KEY (or ADMIN_API_KEY) to open keys with.");
    const secret = openSecret(found.sealed_secret, masterKey);
    return {
      caller: { tenantId: found.tenant_id, keyId: found.key_id, admin: false },
      secret,
      hash: hashKey(secret),
    };
  };
  // Without AUTH_REQUIRED an unknown key acts as tenant `default`: it is no failed authentication.
  const failuresPerMinute = config.AUTH_REQUIRED ? config.AUTH_FAILURES_PER_MINUTE : 0;
  const { keys, close } = revocableKeys(bus, config, failuresPerMinute, credentialsOf, (_id, c) => c.hash);

  const admin: Credentials | null = config.ADMIN_API_KEY
    ? {
        caller: { tenantId: null, keyId: "admin", admin: true },
        secret: config.ADMIN_API_KEY,
        hash: hashKey(config.ADMIN_API_KEY),
      }
    : null;
  const lookUp = (accessKeyId: string, request: FastifyRequest): Promise<Credentials | null> =>
    accessKeyId === ADMIN_ACCESS_KEY_ID ? Promise.resolve(admin) : keys.resolve(accessKeyId, request);

  const anonymous = (request: FastifyRequest): Caller => ({
    tenantId: DEFAULT_TENANT,
    keyId: `anonymous:${request.ip}`,
    admin: false,
  });

  const authenticate = async (
    request: FastifyRequest,
    body: string,
  ): Promise<{ caller: Caller; region: Region; service: SignedService }> => {
    const auth = parseAuthorization(request.headers.authorization);
    if (!auth) {
      if (config.AUTH_REQUIRED) throw missingAuth();
      return { caller: anonymous(request), region: DEFAULT_REGION, service: "ec2" };
    }
    const { region, service } = signedScope(auth);
    const credentials = await lookUp(auth.accessKeyId, request);
    if (!credentials) {
      if (config.AUTH_REQUIRED) throw authFailure();
      return { caller: anonymous(request), region, service };
    }
    const [path = "/", query = ""] = request.url.split(/\?(.*)/s);
    const signed = { method: request.method, path, query, headers: request.headers, body };
    // real time: SigV4's request-time window is checked against the machine's clock, as AWS's.
    verifySignature(signed, auth, credentials.secret, new Date());
    return { caller: credentials.caller, region, service };
  };

  return { authenticate, close };
}

/** The services a request may be signed for: EC2, and STS for GetCallerIdentity (see sts.ts). */
const signedServices = ["ec2", "sts"] as const;
export type SignedService = (typeof signedServices)[number];

/** The region and service of the credential scope: one of cloudsim's regions, ec2 or sts. */
function signedScope(auth: SigV4Header): { region: Region; service: SignedService } {
  const service = signedServices.find((s) => s === auth.service);
  if (!service)
    throw authFailure(`Credential should be scoped to the service ec2, not ${auth.service.slice(0, 64)}.`);
  const region = regions.find((r) => r === auth.region);
  if (!region)
    throw new Ec2Error(
      "AuthFailure",
      `Credential should be scoped to a valid region: ${auth.region} is not one of ${regions.join(", ")}.`,
    );
  return { region, service };
}
