# shellcheck shell=bash
# Sourced by the compose test's scripts: the Docker engine they talk to, and the clients.
# An engine that already answers on DOCKER_HOST is used as it is; otherwise start_engine starts
# one of the test's own (vfs: no kernel overlay needed; no iptables: published ports go through
# docker-proxy; the default bridge for testcontainers' containers, Compose has its own network),
# and stop_engine stops only that one.
COMPOSE_TEST_STATE=${COMPOSE_TEST_STATE:-/var/lib/cloudsim-compose-test}
export DOCKER_HOST=${DOCKER_HOST:-unix://$COMPOSE_TEST_STATE/docker.sock}
# Debian's client: its `docker build` runs BuildKit inside the engine, with no buildx plugin.
DOCKER=/usr/bin/docker
export DOCKER_BUILDKIT=1
started_engine_pid=

engine_answers() { "$DOCKER" version >/dev/null 2>&1; }

install_tools() {
  local missing=()
  [ -x "$DOCKER" ] && command -v dockerd >/dev/null || missing+=(docker.io)
  command -v docker-compose >/dev/null || missing+=(docker-compose)
  command -v debootstrap >/dev/null || missing+=(debootstrap)
  command -v nats-server >/dev/null || missing+=(nats-server)
  command -v prometheus >/dev/null || missing+=(prometheus)
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "compose-test: installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

start_engine() {
  engine_answers && return 0
  mkdir -p "$COMPOSE_TEST_STATE"
  echo "compose-test: starting dockerd (data root $COMPOSE_TEST_STATE/data)"
  setsid dockerd --data-root "$COMPOSE_TEST_STATE/data" --exec-root "$COMPOSE_TEST_STATE/exec" \
    --pidfile "$COMPOSE_TEST_STATE/dockerd.pid" -H "$DOCKER_HOST" \
    --storage-driver=vfs --iptables=false >"$COMPOSE_TEST_STATE/dockerd.log" 2>&1 &
  started_engine_pid=$!
  for _ in $(seq 1 120); do
    engine_answers && return 0
    kill -0 "$started_engine_pid" 2>/dev/null || break
    sleep 0.5
  done
  echo "compose-test: dockerd did not answer; its log: $COMPOSE_TEST_STATE/dockerd.log" >&2
  tail -n 20 "$COMPOSE_TEST_STATE/dockerd.log" >&2
  return 1
}

stop_engine() {
  [ -n "$started_engine_pid" ] || return 0
  echo "compose-test: stopping the dockerd it started (pid $started_engine_pid)"
  kill -TERM "$started_engine_pid" 2>/dev/null || return 0
  for _ in $(seq 1 60); do kill -0 "$started_engine_pid" 2>/dev/null || return 0; sleep 0.5; done
  kill -KILL -- "-$started_engine_pid" 2>/dev/null || true
}
