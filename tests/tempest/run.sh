#!/usr/bin/env bash
# make tempest-test: Debian's Tempest (python3-tempest 33.0) against the Nova face of a whole
# cloudsim of the test's own (scripts/run.ts with AUTH_REQUIRED=true on ports 18120-18126 and a data
# folder of its own, so a `make run` may keep running). Four tenants made with the admin key are
# Tempest's pre-provisioned accounts (the face cannot make Keystone users); tempest.conf, written
# into a `tempest init` workspace in the test's temporary folder, says what the face does. Runs the
# tests include.txt names less those exclude.txt names (each with its reason), two at a time;
# prints how many passed, failed and were skipped, and fails when one failed. Stops everything it
# started, also on failure.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root"

tempest_cli=/usr/bin/tempest
test_name=tempest-test
# Seven ports from here: gateway, lifecycle, ipam, billing, reaper, Postgres, NATS.
base=${TEMPEST_TEST_PORT:-18120}
data=$root/.data/tempest-test
admin_key=tempest-test-admin-key
url=http://127.0.0.1:$base
region=us-east-1
# shellcheck source=tests/lib/cloudsim-system.sh
source "$root/tests/lib/cloudsim-system.sh"

[ -x "$tempest_cli" ] || fail "$tempest_cli is missing (apt-get install python3-tempest)"
system_ports_free TEMPEST_TEST_PORT

# Short timed states, so each wait for ACTIVE or SHUTOFF costs about a second; quotas and the rate
# limit far above what a run uses (Tempest makes a few hundred servers and many requests a second).
system_start PROVISION_DELAY=500ms START_DELAY=500ms STOP_DELAY=500ms REBOOT_DELAY=500ms \
  TERMINATE_DELAY=500ms TENANT_MAX_SERVERS=1000 TENANT_MAX_VCPUS=4000 RATE_LIMIT_PER_MINUTE=1000000 \
  AUTH_FAILURES_PER_MINUTE=100000
say "the system is up on $url in $(($(date +%s) - started)) s"

# A tenant named $1 and a key of it, as an entry of Tempest's accounts file: the tenant's name is
# its Keystone user and project, the key its password.
account() {
  local tenant key_id key
  read -r tenant key_id key <<<"$(system_tenant "$1")"
  printf -- "- username: '%s'\n  password: '%s'\n  project_name: '%s'\n  user_domain_name: Default\n  project_domain_name: Default\n" \
    "$1" "$key" "$1"
}

# The workspace: HOME moves `tempest init`'s registry (~/.tempest) into it too.
export HOME=$work PYTHONWARNINGS=ignore
while read -r name; do unset "$name"; done < <(env | sed -n 's/^\(OS_[A-Za-z0-9_]*\)=.*/\1/p')
(cd "$work" && "$tempest_cli" init tempest >/dev/null 2>&1) || fail "tempest init failed"
ws=$work/tempest
accounts=$ws/etc/accounts.yaml
# Two tests at a time, each with a primary and (some) an alt account: four never make one wait.
for n in 1 2 3 4; do account "tempest-$n"; done >"$accounts"

# The two images tempest.conf names, as the face lists them (the admin key is a token too).
images=$(curl -sSf "$url/image/v2/images" -H "x-auth-token: $admin_key") || fail "GET /image/v2/images failed"
image_ref=$(json_field images.0.id <<<"$images")
image_ref_alt=$(json_field images.1.id <<<"$images")
[ -n "$image_ref" ] && [ -n "$image_ref_alt" ] || fail "GET /image/v2/images: want two images; got $images"
# The microversions the face advertises.
max_microversion=$(curl -sSf "$url/compute/$region/v2.1/" | json_field version.version)
min_microversion=$(curl -sSf "$url/compute/$region/v2.1/" | json_field version.min_version)

sed -e "s|@URL@|$url|g" -e "s|@REGION@|$region|g" -e "s|@ACCOUNTS@|$accounts|g" \
  -e "s|@IMAGE_REF@|$image_ref|g" -e "s|@IMAGE_REF_ALT@|$image_ref_alt|g" \
  -e "s|@MIN_MICROVERSION@|$min_microversion|g" -e "s|@MAX_MICROVERSION@|$max_microversion|g" \
  -e "s|@LOCK_PATH@|$ws/tempest_lock|g" -e "s|@LOG_DIR@|$ws/logs|g" \
  "$here/tempest.conf.in" >"$ws/etc/tempest.conf"
say "tempest.conf: compute $min_microversion to $max_microversion, images $image_ref and $image_ref_alt"

say "tempest run --concurrency 2 (include.txt less exclude.txt)"
rc=0
t0=$(date +%s)
(cd "$ws" && TEMPEST_CONFIG_DIR=$ws/etc "$tempest_cli" run --concurrency 2 \
  --include-list "$here/include.txt" --exclude-list "$here/exclude.txt") >"$work/tempest.out" 2>&1 || rc=$?
count() { sed -n "s/^ - $1: *\([0-9]*\)$/\1/p" "$work/tempest.out" | tail -n 1; }
passed=$(count Passed) failed=$(count Failed) skipped=$(count Skipped)
grep -E '^\{[0-9]+\} .* \.\.\. FAILED' "$work/tempest.out" || true
# Tempest's output (each failure's traceback and requests) outlives the work folder.
cp "$work/tempest.out" "$data.out"
say "Tempest's output, with each failure's traceback: $data.out"
[ -n "$passed" ] || {
  tail -n 60 "$work/tempest.out"
  fail "tempest run printed no totals (exit $rc)"
}
say "passed ${passed}, failed ${failed:-0}, skipped ${skipped:-0} (tempest run took $(($(date +%s) - t0)) s)"
[ "$rc" -eq 0 ] && [ "${failed:-0}" -eq 0 ] || fail "${failed:-?} Tempest tests failed (exit $rc)"
