import { type Logger, pino } from "pino";

export type { Logger };

/** JSON logs with the service name on every line; secrets never reach the output. */
export function createLogger(service: string, level: string): Logger {
  return pino({
    level,
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    redact: {
      paths: ["authorization", "*.authorization", "headers.authorization", "password", "*.password"],
      censor: "[redacted]",
    },
  });
}
