#!/usr/bin/env bash
# make compose-test: docker-compose.yml and the Dockerfile, unchanged, on this machine. Starts a
# Docker engine unless one answers (engine.sh), builds the stand-in base images (build-standins.sh)
# and the five service images, brings the stack up and waits for every healthcheck, runs
# scripts/compose-scenario.ts against it (API, scale, kill, scrape, trace), stops it within its
# grace, brings it up again with `--profile cluster`, the services on three NATS nodes
# (cluster-check.ts: replicas, a node stopped), and checks that `down -v` leaves nothing behind.
# Prints what it measured.
# Run as root (it may start dockerd and install Debian's docker.io, docker-compose, debootstrap).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root"
# shellcheck source=engine.sh
. "$here/engine.sh"

export COMPOSE_PROJECT_NAME=cloudsim-compose-test
# Published on a loopback address of the test's own, so ports in use on 127.0.0.1 do not matter.
bind=${COMPOSE_TEST_BIND:-127.0.0.2}
export GATEWAY_BIND=$bind UI_BIND=$bind
export ADMIN_API_KEY
ADMIN_API_KEY=$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')
compose=(docker-compose)
services=(gateway lifecycle ipam billing reaper)
say() { echo "compose-test: $*"; }
seconds_since() { echo $(($(date +%s) - $1)); }

# The engine's containers, networks and volumes, anonymous volumes too (they carry no project label).
inventory() { { "$DOCKER" ps -aq --no-trunc; "$DOCKER" network ls -q --no-trunc; "$DOCKER" volume ls -q; } | sort; }
# The test's own engine (not one that answered on a DOCKER_HOST of yours) is cleaned as it goes.
own_engine() { [ "$DOCKER_HOST" = "unix://$COMPOSE_TEST_STATE/docker.sock" ]; }
finish() {
  local status=$?
  if [ "$status" -ne 0 ] && engine_answers; then
    say "failed; the stack's state and its last logs:"
    "${compose[@]}" ps || true
    "${compose[@]}" logs --no-color --tail=30 || true
    "${compose[@]}" down -v --remove-orphans >/dev/null 2>&1 || true
  fi
  # vfs copies every layer whole: the build stage's layers take about 15 GB. The images and the
  # package cache stay (about 4 GB under $COMPOSE_TEST_STATE); a later build redoes the stage.
  if own_engine && engine_answers; then "$DOCKER" builder prune -f --filter type=regular >/dev/null || true; fi
  stop_engine
  exit "$status"
}
trap finish EXIT

install_tools
start_engine
started=$(date +%s)
bash "$here/build-standins.sh"
say "stand-in images ready in $(seconds_since "$started") s"

# The images as docker-compose.yml names them, from the project's Dockerfile (Debian's client:
# BuildKit, so the build stage's cache mounts work; host network: without iptables a bridge has no way out).
started=$(date +%s)
for service in "${services[@]}"; do
  "$DOCKER" build -q --network host --build-arg "SERVICE=$service" -t "cloudsim/$service:dev" . >/dev/null
done
say "service images built in $(seconds_since "$started") s; sizes:"
# The images these builds replaced.
if own_engine; then "$DOCKER" image prune -f >/dev/null; fi
"$DOCKER" image ls --format '  {{.Repository}}:{{.Tag}}  {{.Size}}' | sort

# Every container of the project with a healthcheck passing, within 180 s.
wait_healthy() {
  local unhealthy
  for _ in $(seq 1 180); do
    unhealthy=$("$DOCKER" ps --filter "label=com.docker.compose.project=$COMPOSE_PROJECT_NAME" \
      --format '{{.Names}} {{.Status}}' | grep -E '\((health: starting|unhealthy)\)' || true)
    [ -z "$unhealthy" ] && return 0
    sleep 1
  done
  say "not healthy after 180 s: $unhealthy"
  return 1
}

"${compose[@]}" --profile cluster down -v --remove-orphans >/dev/null 2>&1 || true
before=$(inventory)
started=$(date +%s)
"${compose[@]}" up -d --no-build
wait_healthy
say "every healthcheck passing $(seconds_since "$started") s after up"

GATEWAY_URL=http://$bind:${GATEWAY_PORT:-8080} JAEGER_URL=http://$bind:16686 PROMETHEUS_URL=http://$bind:9090 \
  COMPOSE="${compose[0]}" DOCKER=$DOCKER "$root/scripts/pnpm.sh" exec tsx scripts/compose-scenario.ts

# A graceful stop: every service exits on SIGTERM by itself, within stop_grace_period (no SIGKILL: 137).
started=$(date +%s)
"${compose[@]}" stop
say "stopped in $(seconds_since "$started") s; exit codes:"
killed=0
for id in $("${compose[@]}" ps -q "${services[@]}"); do
  read -r name code < <("$DOCKER" inspect --format '{{.Name}} {{.State.ExitCode}}' "$id")
  echo "  ${name#/} $code"
  [ "$code" = 0 ] || killed=1
done
[ "$killed" = 0 ] || { say "a service did not exit cleanly on SIGTERM"; exit 1; }

# The cluster profile (README: A three-node NATS cluster with Compose), switched to as a user
# would: the stopped stack up again with the profile and the services pointed at the three nodes.
# Every stream on all three, and provisioning with the events stream's leader stopped.
export NATS_SERVERS=nats://nats-1:4222,nats://nats-2:4222,nats://nats-3:4222 NATS_STREAM_REPLICAS=3
# The simulated clock (at rate 1), so the clock's key-value bucket is a stream to check as well.
export CLOCK=simulated
compose+=(--profile cluster)
started=$(date +%s)
"${compose[@]}" up -d --no-build
wait_healthy
say "cluster profile: every healthcheck passing $(seconds_since "$started") s after up"
GATEWAY_URL=http://$bind:${GATEWAY_PORT:-8080} COMPOSE="${compose[0]}" DOCKER=$DOCKER \
  "$root/scripts/pnpm.sh" exec tsx ops/compose-test/cluster-check.ts
say "cluster profile: checked in $(seconds_since "$started") s"

"${compose[@]}" down -v --remove-orphans
left=$(comm -13 <(echo "$before") <(inventory))
[ -z "$left" ] || { say "down -v left these containers, networks or volumes behind:"; echo "$left"; exit 1; }
say "down -v left no container, network or volume behind"
say "passed"
