import { randomBytes } from "node:crypto";
import { GenericContainer, Wait } from "testcontainers";
import {
  type ClockMode,
  type ClockOptions,
  clockEnvironment,
  type Delays,
  delayEnvironment,
} from "./options.ts";
import { API_PORT, StartedCloudsimContainer } from "./started-cloudsim-container.ts";

/** The image `make testcontainer-image` builds (the Dockerfile's target cloudsim). */
export const DEFAULT_IMAGE = "cloudsim/cloudsim:dev";

/**
 * cloudsim in a container: its own Postgres and NATS inside, the five services in one process,
 * ready when all five answer GET /readyz. Every API needs a key (AUTH_REQUIRED=true); start() makes a
 * tenant and a key for it, which getCredentials() gives.
 */
export class CloudsimContainer extends GenericContainer {
  private readonly adminKey = `admin-${randomBytes(16).toString("hex")}`;
  private region = "us-east-1";

  constructor(image: string = DEFAULT_IMAGE) {
    super(image);
    this.withExposedPorts(API_PORT)
      .withEnvironment({ ADMIN_API_KEY: this.adminKey, AUTH_REQUIRED: "true", LOG_LEVEL: "warn" })
      // All five services ready (the image's cloudsim-ready, its healthcheck too), polled.
      .withWaitStrategy(Wait.forSuccessfulCommand("cloudsim-ready"))
      .withStartupTimeout(120_000);
  }

  /** The timed states' lengths, e.g. { provision: "2s", stop: "500ms" } (defaults: 2 s and 1 s). */
  withDelays(delays: Delays): this {
    return this.withEnvironment(delayEnvironment(delays));
  }

  /** The clock of simulated things; "manual" stands still until advanceClock() moves it. */
  withClock(mode: ClockMode, options?: ClockOptions): this {
    return this.withEnvironment(clockEnvironment(mode, options));
  }

  /** The region getCredentials() names (default us-east-1). */
  withRegion(region: string): this {
    this.region = region;
    return this;
  }

  override async start(): Promise<StartedCloudsimContainer> {
    const started = await super.start();
    return StartedCloudsimContainer.ready(started, { adminKey: this.adminKey, region: this.region });
  }
}
