export { CloudsimContainer, DEFAULT_IMAGE } from "./cloudsim-container.ts";
export type { ClockMode, ClockOptions, Delays, Duration } from "./options.ts";
export {
  API_PORT,
  type ClockMove,
  type ClockReading,
  type CloudsimCredentials,
  StartedCloudsimContainer,
} from "./started-cloudsim-container.ts";
