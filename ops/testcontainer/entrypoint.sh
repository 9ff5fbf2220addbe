#!/bin/sh
# The whole system in one container (the Dockerfile's target cloudsim, packages/testcontainers):
# Postgres and nats-server with JetStream on 127.0.0.1 inside, then the five services in one
# process (packages/one-process) on PORT. A SIGTERM stops the services first, then NATS and
# Postgres; the container exits with the services' status.
set -eu
state=/var/lib/cloudsim
say() { echo "[cloudsim] $*"; }

# The cluster initdb made in the image. A test container's data goes with it: durability is off.
if ! pg_ctl -D "$PGDATA" -l "$state/postgres.log" -w -t 30 \
  -o "-c listen_addresses=127.0.0.1 -p 5432 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c shared_buffers=32MB" \
  start >/dev/null; then
  say "Postgres did not start; its log:"
  cat "$state/postgres.log"
  exit 1
fi
nats-server -a 127.0.0.1 -p 4222 -js -sd "$state/nats" -l "$state/nats.log" &
nats=$!

if [ -z "${ADMIN_API_KEY:-}" ]; then
  ADMIN_API_KEY=admin-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
  export ADMIN_API_KEY
  say "admin key (made now; set ADMIN_API_KEY to choose it): $ADMIN_API_KEY"
fi
say "starting on :$PORT (CLOCK=${CLOCK:-real}, AUTH_REQUIRED=${AUTH_REQUIRED:-true})"
node --import ./dist/tracing.js dist/main.js &
services=$!

trap 'kill -TERM "$services" 2>/dev/null || true' TERM INT
status=0
wait "$services" || status=$?
# A trapped signal ends the first wait early: wait again until the services have stopped.
while kill -0 "$services" 2>/dev/null; do
  status=0
  wait "$services" || status=$?
done
kill -TERM "$nats" 2>/dev/null || true
wait "$nats" || true
pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null || true
say "stopped (services' exit status $status)"
exit "$status"
