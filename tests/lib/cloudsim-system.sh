# shellcheck shell=bash
# The whole cloudsim of a client test's own (tests/ec2-clients/run.sh, tests/openstack-clients/run.sh):
# scripts/run.ts on seven ports and a data folder of the test's own, so a `make run` may keep
# running; stopped with everything it started, also on failure, and checked that nothing is left.
#
# Source it after setting
#   test_name  what `say` puts before each line (ec2-clients-test)
#   base       the first of the seven ports: gateway, lifecycle, ipam, billing, reaper, Postgres, NATS
#   data       the system's data folder, removed before the start
#   admin_key  its ADMIN_API_KEY
# Sourcing sets ports (the seven), work (a temporary folder, removed at the end), log (the
# system's output, in work) and started; system_start sets run_pid and pg_data.
#
#   system_ports_free VAR   fails unless the seven ports are free; VAR is what moves them
#   system_tenant NAME      a new tenant NAME and a key of it: "id key-id key"
#   system_aws_pair NAME    a new tenant NAME, its key exported as AWS_ACCESS_KEY_ID and
#                           AWS_SECRET_ACCESS_KEY
#   system_admin METHOD PATH [CURL ARGS]
#                           a request with the admin key
#   json_field PATH         a field of the JSON document on stdin
#   system_start [ENV=VALUE ...]
#                           stops the system at exit (finish), then starts it with the common
#                           environment and these extras (the timed states' delays, ...) and
#                           waits until it is up

: "${test_name:?}" "${base:?}" "${data:?}" "${admin_key:?}"
mapfile -t ports < <(seq "$base" $((base + 6)))
work=$(mktemp -d)
log=$work/run.log
started=$(date +%s)

say() { echo "$test_name: $*"; }
fail() {
  say "FAILED: $*"
  exit 1
}
answers() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

system_ports_free() {
  local port
  for port in "${ports[@]}"; do
    if answers "$port"; then fail "port $port is in use ($1 moves the seven ports)"; fi
  done
}

# What is left of the system: its process group (the launcher and the services) and the detached
# Postgres and nats-server, found by their data folders.
leftovers() {
  {
    pgrep -g "$run_pid" || true
    pgrep -f -- "$data/" || true
    if [ -n "${pg_data:-}" ]; then pgrep -f -- "$pg_data" || true; fi
  } | sort -u
}
stop_system() {
  [ -n "${run_pid:-}" ] || return 0
  kill -TERM "$run_pid" 2>/dev/null || true
  for _ in $(seq 1 120); do
    [ -z "$(leftovers)" ] && return 0
    sleep 0.5
  done
  local left
  mapfile -t left < <(leftovers)
  say "still running 60 s after SIGTERM, now killed:"
  ps -o pid=,args= -p "$(IFS=,; echo "${left[*]}")" || true
  kill -KILL "${left[@]}" 2>/dev/null || true
  return 1
}
# The EXIT trap: the system's last log lines on failure, the system stopped, its ports free, the
# work folder removed; exits with the test's status, or 1 when something had to be killed or a
# port still answers.
finish() {
  local status=$?
  if [ "$status" -ne 0 ] && [ -s "$log" ]; then
    say "the system's last log lines:"
    tail -n 40 "$log"
  fi
  stop_system || status=1
  local port
  for port in "${ports[@]}"; do
    if answers "$port"; then
      say "port $port still answers after the stop"
      status=1
    fi
  done
  rm -rf "$work"
  [ "$status" -eq 0 ] && say "passed in $(($(date +%s) - started)) s"
  exit "$status"
}

system_start() {
  local extra
  for extra in "$@"; do
    [[ "$extra" == [A-Za-z_]*=* ]] || fail "system_start: '$extra' is not ENV=VALUE"
  done
  trap finish EXIT
  trap 'exit 130' INT TERM

  # A fresh cluster each run; its own Postgres and NATS, not DATABASE_URL / NATS_URL of CI's.
  rm -rf "$data"
  # scripts/run.ts itself, not through pnpm and tsx's CLI: they relay a SIGTERM of their own, and
  # tsx kills the launcher (SIGKILL) when a second one comes while it is still stopping, which
  # leaves the nats-server behind. setsid: the launcher and its services form one process group.
  env -u DATABASE_URL -u NATS_URL -u NATS_USER -u NATS_PASSWORD \
    CLOUDSIM_DATA_DIR="$data" PORT="${ports[0]}" LIFECYCLE_PORT="${ports[1]}" IPAM_PORT="${ports[2]}" \
    BILLING_PORT="${ports[3]}" REAPER_PORT="${ports[4]}" EMBEDDED_PG_PORT="${ports[5]}" \
    LOCAL_NATS_PORT="${ports[6]}" HOST=127.0.0.1 AUTH_REQUIRED=true ADMIN_API_KEY="$admin_key" \
    LOG_LEVEL=warn CLOCK=simulated CLOCK_RATE=1 "$@" \
    setsid node --import tsx scripts/run.ts >"$log" 2>&1 &
  run_pid=$!
  for _ in $(seq 1 360); do
    grep -q '^\[run\] cloudsim is up' "$log" && break
    kill -0 "$run_pid" 2>/dev/null || fail "scripts/run.ts exited before the system was up"
    sleep 0.5
  done
  grep -q '^\[run\] cloudsim is up' "$log" || fail "the system was not up within 180 s"
  pg_data=$(sed -n 's/^\[run\] embedded Postgres is up (data in \(.*\))$/\1/p' "$log")
}

# A new tenant named $1, made with the admin key, and a key of it exported as the AWS credential
# pair (AWS_ACCESS_KEY_ID: the key's id, AWS_SECRET_ACCESS_KEY: the key).
# json_field PATH: a field (a dotted path, e.g. images.0.id) of the JSON document on stdin; ""
# when it is missing, an object or array as JSON.
json_field() {
  node -e '
    let v = JSON.parse(require("fs").readFileSync(0, "utf8"));
    for (const k of process.argv[1].split(".")) v = v == null ? undefined : v[k];
    process.stdout.write(v === undefined || v === null ? "" : typeof v === "object" ? JSON.stringify(v) : String(v));
  ' "$1"
}
# system_admin METHOD PATH [CURL ARGS...]: a request to the system with its admin key.
system_admin() { curl -sSf -X "$1" "http://localhost:${ports[0]}$2" -H "authorization: Bearer $admin_key" "${@:3}"; }
# system_tenant NAME: a new tenant NAME and a key of it, printed as "id key-id key".
system_tenant() {
  local tenant key
  tenant=$(system_admin POST /admin/tenants -H 'content-type: application/json' -d "{\"name\":\"$1\"}" | json_field id) ||
    fail "POST /admin/tenants did not make the tenant $1"
  key=$(system_admin POST "/admin/tenants/$tenant/keys") || fail "POST /admin/tenants/$tenant/keys did not make a key"
  echo "$tenant $(json_field id <<<"$key") $(json_field key <<<"$key")"
}
system_aws_pair() {
  local tenant
  export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
  read -r tenant AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY <<<"$(system_tenant "$1")"
}
