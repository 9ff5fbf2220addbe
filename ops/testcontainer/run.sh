#!/usr/bin/env bash
# make testcontainers-test: packages/testcontainers against a Docker engine. Starts the compose
# test's engine unless one answers (ops/compose-test/engine.sh), builds cloudsim/cloudsim:dev
# (build-image.sh), runs the package's own tests, then the example of its README, as printed, in a
# new npm project with the package's tarball; checks that no container, network or volume is left.
# Run as root (it may start dockerd and install Debian's docker.io).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root"
# shellcheck source=../compose-test/engine.sh
. "$root/ops/compose-test/engine.sh"
say() { echo "testcontainers-test: $*"; }
work=$(mktemp -d)
# No registry here for testcontainers' Ryuk; each test stops what it started.
export TESTCONTAINERS_RYUK_DISABLED=true
export CLOUDSIM_IMAGE=cloudsim/cloudsim:dev

inventory() { { "$DOCKER" ps -aq --no-trunc; "$DOCKER" network ls -q --no-trunc; "$DOCKER" volume ls -q; } | sort; }
finish() {
  local status=$?
  rm -rf "$work"
  if [ -n "$started_engine_pid" ] && engine_answers; then "$DOCKER" builder prune -f --filter type=regular >/dev/null || true; fi
  stop_engine
  exit "$status"
}
trap finish EXIT

install_tools
start_engine
bash "$here/build-image.sh"
before=$(inventory)

started=$(date +%s)
./scripts/pnpm.sh --filter @cloudsim/testcontainers exec vitest run
say "the package's tests passed in $(($(date +%s) - started)) s"

# The README's example in a project of its own, as a new user would have it.
started=$(date +%s)
./scripts/pnpm.sh --filter @cloudsim/testcontainers pack --pack-destination "$work" >/dev/null
tarball=$(ls "$work"/cloudsim-testcontainers-*.tgz)
mkdir "$work/project"
sed -n '/<!-- testcontainers-example:start -->/,/<!-- testcontainers-example:end -->/p' packages/testcontainers/README.md |
  sed '1,2d;$d' | sed '$d' >"$work/project/cloudsim.test.ts"
[ -s "$work/project/cloudsim.test.ts" ] || { say "the README's example block was not found"; exit 1; }
(
  cd "$work/project"
  echo '{ "name": "example", "private": true, "type": "module" }' >package.json
  npm install --silent --no-audit --no-fund --save-dev "$tarball" vitest@4.1.12 @aws-sdk/client-ec2@3.1169.0
  npx vitest run --reporter=verbose
)
say "the README's example passed in a new project in $(($(date +%s) - started)) s"

after=$(inventory)
if [ "$before" != "$after" ]; then
  say "FAILED: the engine holds what it did not before:"
  diff <(echo "$before") <(echo "$after") || true
  exit 1
fi
say "passed; nothing left behind"
