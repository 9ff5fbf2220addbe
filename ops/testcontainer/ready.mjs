#!/usr/bin/env node
// cloudsim-ready: exits 0 when all five services of the container answer GET /readyz (the
// gateway on PORT, the others on their <SERVICE>__PORT), 1 otherwise. The image's healthcheck,
// and what packages/testcontainers waits for.
const env = process.env;
const ports = [env.PORT, env.LIFECYCLE__PORT, env.IPAM__PORT, env.BILLING__PORT, env.REAPER__PORT];
const ready = async (port) =>
  (
    await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(2_000) }).catch(
      () => undefined,
    )
  )?.ok === true;
const answers = await Promise.all(ports.map(ready));
process.exit(answers.every(Boolean) ? 0 : 1);
