import { zonesOf } from "@cloudsim/shared";
import type { FastifyInstance } from "fastify";
import { hiddenRoute } from "../context.ts";
import type { ComputeEndpoint } from "./context.ts";

/** GET /os-availability-zone (and /detail, the same here: no hosts are shown): the region's zones. */
export function availabilityZoneRoutes(app: FastifyInstance, endpoint: ComputeEndpoint) {
  const zones = async () => ({
    availabilityZoneInfo: zonesOf(endpoint.region).map((zoneName) => ({
      zoneName,
      zoneState: { available: true },
      hosts: null,
    })),
  });
  app.get("/v2.1/os-availability-zone", hiddenRoute, zones);
  app.get("/v2.1/os-availability-zone/detail", hiddenRoute, zones);
}
