import {
  type Clock,
  connectBus,
  createRegistry,
  dependencyMetrics,
  type Logger,
  openClock,
  type RunningService,
} from "@cloudsim/shared";
import { buildApp } from "./app.ts";
import type { GatewayConfig } from "./config.ts";

/**
 * Starts the gateway: NATS, then HTTP on PORT. `clock` is the time of simulated things its
 * EC2 face computes (the one CLOCK names when left out, or a test's own).
 */
export async function startGateway(
  config: GatewayConfig,
  log: Logger,
  ownClock?: Clock,
): Promise<RunningService> {
  // Compose's default: without an admin key nobody can make a tenant or a key to call the API with.
  if (config.AUTH_REQUIRED && !config.ADMIN_API_KEY)
    log.warn(
      "every request needs an API key (AUTH_REQUIRED) and no ADMIN_API_KEY is set, so no tenant or key can be made: set ADMIN_API_KEY, or AUTH_REQUIRED=false for local play",
    );
  const bus = await connectBus("gateway", config, log);
  const { clock, store: clockStore } = ownClock ? { clock: ownClock } : await openClock(bus, config, log);
  const registry = createRegistry("gateway");
  dependencyMetrics(registry, [{ name: "nats", check: () => bus.ping() }]);
  let draining = false;
  const app = await buildApp({ bus, clock, log, registry, config, draining: () => draining });
  await app.listen({ port: config.PORT, host: config.HOST });
  const address = app.server.address();
  return {
    port: typeof address === "object" && address ? address.port : config.PORT,
    async stop() {
      // Readiness says so first; requests in hand finish, new ones on open connections get 503.
      draining = true;
      // A connection that sent no request, or fell idle once close() began (an event feed's,
      // after its last message), would hold close() open until its own timeout: once no request
      // is in hand, whatever connections are left go.
      const sweep = setInterval(() => {
        if (app.requestsInHand() === 0) app.server.closeAllConnections();
      }, 100);
      await app.close().finally(() => clearInterval(sweep));
      clockStore?.stop();
      await bus.close();
    },
  };
}
