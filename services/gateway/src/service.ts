import {
  connectBus,
  createRegistry,
  dependencyMetrics,
  type Logger,
  type RunningService,
} from "@cloudsim/shared";
import { buildApp } from "./app.ts";
import type { GatewayConfig } from "./config.ts";

/** Starts the gateway: NATS, then HTTP on PORT. */
export async function startGateway(config: GatewayConfig, log: Logger): Promise<RunningService> {
  const bus = await connectBus("gateway", config, log);
  const registry = createRegistry("gateway");
  dependencyMetrics(registry, [{ name: "nats", check: () => bus.ping() }]);
  const app = await buildApp({ bus, log, registry, config });
  await app.listen({ port: config.PORT, host: config.HOST });
  const address = app.server.address();
  return {
    port: typeof address === "object" && address ? address.port : config.PORT,
    async stop() {
      await app.close();
      await bus.close();
    },
  };
}
