import { AbstractStartedContainer, type StartedTestContainer } from "testcontainers";
import { type Duration, durationText } from "./options.ts";

/** A tenant of the container and its key, as every API takes it. */
export interface CloudsimCredentials {
  /** The tenant's id: the OpenStack project and user name too. */
  tenant: string;
  /** The REST API's bearer key (Authorization: Bearer …), also the OpenStack password. */
  apiKey: string;
  /** The same key as an AWS pair, for the EC2 API (SigV4). */
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
}

/** Where the simulated clock stands. */
export interface ClockReading {
  now: string;
  mode: "real" | "simulated";
  rate: number;
}

/** What a clock move did: the new time, and whether everything due up to it has happened. */
export interface ClockMove {
  now: string;
  caught_up: boolean;
  steps: number;
}

/** The port of the REST, EC2 and OpenStack APIs inside the container. */
export const API_PORT = 8080;
/** How long an admin request may take; a clock move waits for the system to catch up (its own bound is 120 s). */
const requestTimeoutMs = 30_000;
const clockMoveTimeoutMs = 150_000;

/** A started cloudsim container: its endpoints, a ready tenant, and its clock. */
export class StartedCloudsimContainer extends AbstractStartedContainer {
  private constructor(
    started: StartedTestContainer,
    private readonly adminKey: string,
    private readonly credentials: CloudsimCredentials,
  ) {
    super(started);
  }

  /** Makes the ready tenant and its key; stops the container when that fails. */
  static async ready(
    started: StartedTestContainer,
    options: { adminKey: string; region: string },
  ): Promise<StartedCloudsimContainer> {
    const endpoint = `http://${started.getHost()}:${started.getMappedPort(API_PORT)}`;
    try {
      const admin = (method: string, path: string, body?: unknown) =>
        call(endpoint, options.adminKey, method, path, body, requestTimeoutMs);
      const tenant = (await admin("POST", "/admin/tenants", { name: "testcontainers" })) as { id: string };
      const key = (await admin("POST", `/admin/tenants/${encodeURIComponent(tenant.id)}/keys`)) as {
        id: string;
        key: string;
      };
      return new StartedCloudsimContainer(started, options.adminKey, {
        tenant: tenant.id,
        apiKey: key.key,
        accessKeyId: key.id,
        secretAccessKey: key.key,
        region: options.region,
      });
    } catch (error) {
      await started.stop().catch(() => {});
      throw error;
    }
  }

  /** The REST API's base URL, e.g. http://localhost:32768 (its OpenAPI document: /openapi.json). */
  getEndpoint(): string {
    return `http://${this.getHost()}:${this.getMappedPort(API_PORT)}`;
  }

  /** The EC2 Query API's endpoint (an AWS SDK's `endpoint`, the AWS CLI's --endpoint-url). */
  getEc2Endpoint(): string {
    return this.getEndpoint();
  }

  /** Keystone v3 (OS_AUTH_URL): user and project are the tenant, the password its key. */
  getOpenStackAuthUrl(): string {
    return `${this.getEndpoint()}/identity/v3`;
  }

  /** The ready tenant made at the start, with its key as a bearer key and as an AWS pair. */
  getCredentials(): CloudsimCredentials {
    return { ...this.credentials };
  }

  /** The admin key (tenants, keys, quotas, the clock: /admin/*). */
  getAdminKey(): string {
    return this.adminKey;
  }

  /** The time of simulated things. */
  async getClock(): Promise<ClockReading> {
    return (await call(
      this.getEndpoint(),
      this.adminKey,
      "GET",
      "/clock",
      undefined,
      requestTimeoutMs,
    )) as ClockReading;
  }

  /**
   * Moves a simulated clock forward by `duration` ("31d", or milliseconds) and resolves once
   * everything due up to the new time has happened: states ended, bills settled, idle servers
   * reaped. The container must have been started withClock("manual") or withClock("simulated").
   */
  async advanceClock(duration: Duration): Promise<ClockMove> {
    const advance = durationText("advanceClock", duration);
    const path = "/admin/clock";
    return (await call(
      this.getEndpoint(),
      this.adminKey,
      "POST",
      path,
      { advance },
      clockMoveTimeoutMs,
    )) as ClockMove;
  }
}

/** One JSON request with the admin key; a refusal throws with the API's status and detail. */
async function call(
  endpoint: string,
  key: string,
  method: string,
  path: string,
  body: unknown,
  timeoutMs: number,
): Promise<unknown> {
  const response = await fetch(`${endpoint}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${key}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await response.text();
  if (!response.ok) {
    const detail = (() => {
      try {
        return (JSON.parse(text) as { detail?: string }).detail ?? text;
      } catch {
        return text;
      }
    })();
    throw new Error(`cloudsim: ${method} ${path} answered ${response.status}: ${detail}`);
  }
  return JSON.parse(text);
}
