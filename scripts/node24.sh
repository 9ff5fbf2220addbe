#!/usr/bin/env bash
# Runs the test suite on Node 24 LTS, or the command given (scripts/node24.sh node --version),
# with Node 24 first on PATH: npm's `node` package, installed under .tools/node24 the first
# time and reused after, so a machine with another Node (CI's is 20) tests the next LTS too.
# The tests' own processes (vitest's workers, the services they spawn) run on it as well.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
prefix="$root/.tools/node24"
node24="$prefix/node_modules/node/bin/node"
if [ ! -x "$node24" ]; then
  echo "scripts/node24.sh: installing Node 24 into .tools/node24 with npm" >&2
  npm install --prefix "$prefix" --no-save --no-audit --no-fund --loglevel=error "node@24" >&2
fi
PATH="$(dirname "$node24"):$PATH"
export PATH
echo "scripts/node24.sh: running on Node $(node --version)" >&2
cd "$root"
if [ $# -eq 0 ]; then
  set -- ./scripts/pnpm.sh exec vitest run
fi
exec "$@"
