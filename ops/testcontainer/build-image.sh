#!/usr/bin/env bash
# make testcontainer-image: the whole system in one image, cloudsim/cloudsim:dev (the Dockerfile's
# target cloudsim), for packages/testcontainers. Uses the Docker engine on DOCKER_HOST, else
# /var/run/docker.sock, else starts one of its own as the compose test does (as root; it keeps
# running, so the image can be used: stop it with `kill $(cat /var/lib/cloudsim-compose-test/dockerd.pid)`).
# The base images are pulled when a registry answers and built as stand-ins when none does
# (ops/compose-test/build-standins.sh).
#   CLOUDSIM_IMAGE   the tag (default cloudsim/cloudsim:dev)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root"
if [ -z "${DOCKER_HOST:-}" ] && [ -S /var/run/docker.sock ] && docker -H unix:///var/run/docker.sock version >/dev/null 2>&1; then
  export DOCKER_HOST=unix:///var/run/docker.sock
fi
# shellcheck source=../compose-test/engine.sh
. "$root/ops/compose-test/engine.sh"
image=${CLOUDSIM_IMAGE:-cloudsim/cloudsim:dev}
say() { echo "testcontainer-image: $*"; }

if ! engine_answers; then
  install_tools
  start_engine
fi
# The images the target's stages start from.
node_image="node:$(sed -n 's/^ARG NODE_VERSION=//p' Dockerfile)-bookworm-slim"
nats_image=$(sed -n 's/^FROM \(nats:[^ ]*\) AS nats$/\1/p' Dockerfile)
for base in "$node_image" "$nats_image"; do
  "$DOCKER" image inspect "$base" >/dev/null 2>&1 && continue
  if ! "$DOCKER" pull -q "$base" >/dev/null 2>&1; then
    say "$base cannot be pulled (no registry): building the stand-ins"
    install_tools
    bash "$root/ops/compose-test/build-standins.sh"
    break
  fi
done
started=$(date +%s)
"$DOCKER" build -q --network host --target cloudsim -t "$image" . >/dev/null
say "built $image in $(($(date +%s) - started)) s ($("$DOCKER" image inspect --format '{{.Size}}' "$image" | awk '{printf "%d MB", $1 / 1e6}'))"
