#!/bin/bash
# The official postgres image's contract, in short: as root, own the data folder and drop to the
# postgres user; on an empty data folder, initdb with POSTGRES_USER / POSTGRES_PASSWORD, create
# POSTGRES_DB, run /docker-entrypoint-initdb.d/*.sql and *.sh on a server listening on its socket
# only, then start the server for everyone (password logins over TCP).
set -euo pipefail
if [ "$1" = postgres ] && [ "$(id -u)" = 0 ]; then
  chown -R postgres:postgres "$PGDATA" /var/run/postgresql
  chmod 700 "$PGDATA"
  exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" "$@"
fi
if [ "$1" = postgres ] && [ ! -s "$PGDATA/PG_VERSION" ]; then
  user=${POSTGRES_USER:-postgres}
  database=${POSTGRES_DB:-$user}
  : "${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD, the password of POSTGRES_USER}"
  initdb --username="$user" --pwfile=<(printf '%s\n' "$POSTGRES_PASSWORD") --encoding=UTF8 --locale=C \
    --auth-local=trust --auth-host=scram-sha-256 >/dev/null
  echo "host all all all scram-sha-256" >>"$PGDATA/pg_hba.conf"
  pg_ctl --silent --wait --options="-c listen_addresses='' -k /var/run/postgresql" start
  psql=(psql -v ON_ERROR_STOP=1 --no-psqlrc --quiet -h /var/run/postgresql -U "$user")
  if [ "$database" != postgres ]; then "${psql[@]}" -d postgres -c "CREATE DATABASE \"$database\""; fi
  for script in /docker-entrypoint-initdb.d/*; do
    # shellcheck disable=SC1090 # the scripts the user mounts
    case "$script" in
      *.sql) echo "running $script" && "${psql[@]}" -d "$database" -f "$script" ;;
      *.sh) echo "running $script" && . "$script" ;; # sourced, as the official image does
    esac
  done
  pg_ctl --silent --wait --mode=fast stop
  echo "PostgreSQL init process complete; ready for start up."
fi
if [ "$1" = postgres ]; then
  shift
  exec postgres -c listen_addresses='*' -k /var/run/postgresql "$@"
fi
exec "$@"
