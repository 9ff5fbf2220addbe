import { type InstanceTypeName, instanceRates } from "@cloudsim/shared";
import { parseMoney } from "./money.ts";

/** Price per minute of each type in nano-units: the catalogue's, or `defaultRate` where it has none. */
export function rateTable(defaultRate: bigint): Record<InstanceTypeName, bigint> {
  return Object.fromEntries(
    Object.entries(instanceRates).map(([type, rate]) => [
      type,
      rate === null ? defaultRate : parseMoney(rate),
    ]),
  ) as Record<InstanceTypeName, bigint>;
}
