// The start of a service in its container: TypeScript through tsx, then OpenTelemetry before
// any application code (src/tracing.ts), so that one flag does both:
//   node --import @cloudsim/shared/preload src/main.ts
// (In the workspace, spawnService passes `--import tsx --import <shared>/src/tracing.ts`.)
import { register } from "tsx/esm/api";

register();
await import("./src/tracing.ts");
