import { type DestinationStream, type Logger, pino } from "pino";

export type { DestinationStream, Logger };

/** JSON logs with the service name on every line; secrets never reach the output. */
export function createLogger(service: string, level: string, destination?: DestinationStream): Logger {
  const options = {
    level,
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
    redact: {
      paths: ["authorization", "*.authorization", "headers.authorization", "password", "*.password"],
      censor: "[redacted]",
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
