#!/usr/bin/env bash
# drizzle-kit generate for the service in the current folder. The migrator keeps its journal
# table inside the service's own schema and creates that schema first, so the generated
# CREATE SCHEMA is made idempotent.
set -euo pipefail
drizzle-kit generate "$@"
sed -i 's/^CREATE SCHEMA "/CREATE SCHEMA IF NOT EXISTS "/' src/db/migrations/*.sql
