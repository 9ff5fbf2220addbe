#!/usr/bin/env bash
# Runs the pnpm pinned in package.json, installing it under .tools/ first when the
# machine has no matching pnpm (a fresh machine needs only Node and npm).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
want=$(node -p "require('$root/package.json').packageManager.split('@')[1]")
local_bin="$root/.tools/node_modules/.bin/pnpm"
if command -v pnpm >/dev/null 2>&1 && [ "$(pnpm --version 2>/dev/null)" = "$want" ]; then
  exec pnpm "$@"
fi
if [ ! -x "$local_bin" ] || [ "$("$local_bin" --version)" != "$want" ]; then
  echo "scripts/pnpm.sh: installing pnpm $want into .tools/ with npm" >&2
  npm install --prefix "$root/.tools" --no-save --no-audit --no-fund --loglevel=error "pnpm@$want" >&2
fi
exec "$local_bin" "$@"
