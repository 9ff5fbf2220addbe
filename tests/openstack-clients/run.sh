#!/usr/bin/env bash
# make openstack-clients-test: Debian's `openstack` CLI (python3-openstackclient 6.0.0, novaclient 18.1,
# keystoneauth1 5.0) and openstacksdk 0.101 against the OpenStack face of a whole cloudsim of the
# test's own (scripts/run.ts with AUTH_REQUIRED=true on ports and a data folder of its own, so a
# `make run` may keep running): identity at /identity/v3, compute at /compute/v2.1, image at /image.
# The CLI's life of two servers (../../../shared/NOVA.md §7, issue 24), each command's output
# checked, not only its exit status (some failures exit 0 in this client version), then
# sdk_check.py, the same life through openstacksdk. Stops everything it started, also on failure,
# and checks that nothing is left.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root"

openstack_cli=/usr/bin/openstack
python=/usr/bin/python3
test_name=openstack-clients-test
# Seven ports from here: gateway, lifecycle, ipam, billing, reaper, Postgres, NATS.
base=${OPENSTACK_CLIENTS_TEST_PORT:-18090}
data=$root/.data/openstack-clients-test
admin_key=openstack-clients-test-admin-key
url=http://127.0.0.1:$base
region=us-east-1
flavor=t2.micro
# shellcheck source=tests/lib/cloudsim-system.sh
source "$root/tests/lib/cloudsim-system.sh"

[ -x "$openstack_cli" ] || fail "$openstack_cli is missing (apt-get install python3-openstackclient)"
"$python" -c 'import openstack' 2>/dev/null ||
  fail "$python has no openstacksdk (apt-get install python3-openstackclient)"
system_ports_free OPENSTACK_CLIENTS_TEST_PORT

# The timed states last 1-1.5 s: long enough for `--wait` (a GET at once, then one every 5 s) to
# see BUILD or REBOOT before ACTIVE, short enough that each wait costs one 5 s poll.
system_start PROVISION_DELAY=1500ms START_DELAY=1s STOP_DELAY=1s REBOOT_DELAY=1500ms TERMINATE_DELAY=500ms
say "the system is up on $url in $(($(date +%s) - started)) s"

# A tenant with a quota of two servers and an API key: "id name key-id key".
make_tenant() {
  local tenant key_id key
  read -r tenant key_id key <<<"$(system_tenant "$1")"
  system_admin PATCH "/admin/tenants/$tenant" -H 'content-type: application/json' -d '{"max_servers":2}' >/dev/null ||
    fail "PATCH /admin/tenants/$tenant did not set max_servers"
  echo "$tenant $1 $key_id $key"
}
read -r tenant project key_id api_key <<<"$(make_tenant os-cli)"
read -r sdk_tenant sdk_project sdk_key_id sdk_api_key <<<"$(make_tenant os-sdk)"

# The clients as NOVA.md §7 has them: everything from the environment, none of this machine's
# clouds.yaml or OS_* settings.
while read -r name; do unset "$name"; done < <(env | sed -n 's/^\(OS_[A-Za-z0-9_]*\)=.*/\1/p')
export HOME=$work XDG_CONFIG_HOME=$work/config PYTHONWARNINGS=ignore
export OS_AUTH_URL=$url/identity/v3 OS_IDENTITY_API_VERSION=3 OS_INTERFACE=public \
  OS_USERNAME=$project OS_PASSWORD=$api_key OS_PROJECT_NAME=$project \
  OS_USER_DOMAIN_NAME=Default OS_PROJECT_DOMAIN_NAME=Default OS_REGION_NAME=$region

# osc [ENV=VALUE | -u ENV ...] -- ARGS: runs `openstack ARGS` with those variables set or unset,
# leaving its stdout in $out, its stderr in $err and its exit status in $rc; prints the command.
osc() {
  local sets=() unsets=()
  while [ "$1" != -- ]; do
    if [ "$1" = -u ]; then
      unsets+=(-u "$2")
      shift
    else
      sets+=("$1")
    fi
    shift
  done
  shift
  local shown=${unsets[*]:+(no ${unsets[*]}) }
  shown="${shown//-u /}${sets[*]}${sets[*]:+ }openstack $*"
  say "  \$ ${shown//$api_key/<the API key>}"
  rc=0
  env "${unsets[@]}" "${sets[@]}" "$openstack_cli" "$@" >"$work/out" 2>"$work/err" || rc=$?
  out=$(tr -d '\r' <"$work/out")
  err=$(cat "$work/err")
}
printed() { printf 'exit %s; stdout:\n%s\nstderr:\n%s' "$rc" "$out" "$err"; }
# The last command succeeded (exit 0, nothing on stderr).
expect_ok() {
  [ "$rc" -eq 0 ] || fail "$1: want exit 0; $(printed)"
  [ -z "$err" ] || fail "$1: want nothing on stderr; $(printed)"
}
# Each line of $out matches the regex on the same line of $2, and there are as many.
expect_lines() {
  local got want i
  mapfile -t got <<<"$out"
  mapfile -t want <<<"$2"
  for i in "${!want[@]}"; do
    [[ "${got[i]:-}" =~ ^${want[i]}$ ]] ||
      fail "$1: stdout line $((i + 1)) is '${got[i]:-}', want /${want[i]}/; $(printed)"
  done
  [ "${#got[@]}" -eq "${#want[@]}" ] || fail "$1: ${#got[@]} lines, want ${#want[@]}; $(printed)"
}
# The last command succeeded and printed exactly these lines (regexes).
expect_out() {
  expect_ok "$1"
  expect_lines "$1" "$2"
}
# The last command failed with exit $2, printing nothing on stdout and one line matching $3 on stderr.
expect_error() {
  [ "$rc" -eq "$2" ] || fail "$1: want exit $2; $(printed)"
  [ -z "$out" ] || fail "$1: want nothing on stdout; $(printed)"
  [[ "$err" =~ ^$3$ ]] || fail "$1: want stderr /$3/; $(printed)"
}
# A field of the JSON that the last command printed.
out_field() { json_field "$1" <<<"$out"; }
expect_field() {
  local got
  got=$(out_field "$2") || fail "$1: stdout is not JSON; $(printed)"
  [[ "$got" =~ ^$3$ ]] || fail "$1: $2 is '$got', want /$3/; $(printed)"
}
step() { say "$*"; }
passed() { say "  ok: $*"; }
req_id='\(Request-ID: req-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\)'
uuid='[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}'
# `server show NAME` until its status is $2, for at most $3 seconds (each run takes about 1.5 s).
wait_status() {
  local deadline=$(($(date +%s) + $3))
  while :; do
    osc -- server show "$1" -f value -c status
    expect_ok "waiting for $1 to be $2"
    [ "$out" = "$2" ] && return 0
    [ "$(date +%s)" -lt "$deadline" ] || fail "$1 is still $out after $3 s, want $2"
    sleep 1
  done
}

# 1. Identity by hand, as keystoneauth reads it.
step "1. identity: the version document and a token, with curl"
version=$(curl -sS "$OS_AUTH_URL") || fail "GET $OS_AUTH_URL did not answer"
[[ "$(json_field version.id <<<"$version")" =~ ^v3\.[0-9]+$ ]] ||
  fail "GET $OS_AUTH_URL: want version.id v3.N; got $version"
[[ "$(json_field version.status <<<"$version")" =~ ^(stable|current|supported|CURRENT|SUPPORTED)$ ]] ||
  fail "GET $OS_AUTH_URL: want version.status stable; got $version"
grep -q '"rel": *"self"' <<<"$version" || fail "GET $OS_AUTH_URL: want a self link; got $version"
password_body=$(printf '{"auth":{"identity":{"methods":["password"],"password":{"user":{"name":"%s","domain":{"name":"Default"},"password":"%s"}}},"scope":{"project":{"name":"%s","domain":{"name":"Default"}}}}}' \
  "$project" "$api_key" "$project")
headers=$(curl -sS -o "$work/token.json" -D - -X POST "$OS_AUTH_URL/auth/tokens" \
  -H 'content-type: application/json' -d "$password_body" | tr -d '\r')
grep -q '^HTTP/[0-9.]* 201' <<<"$headers" || fail "POST /identity/v3/auth/tokens: want 201; got $headers $(cat "$work/token.json")"
token=$(sed -n 's/^[Xx]-[Ss]ubject-[Tt]oken: *//p' <<<"$headers")
[ -n "$token" ] || fail "POST /identity/v3/auth/tokens: no X-Subject-Token header in $headers"
for field in token.expires_at token.project.id token.user.id token.catalog; do
  [ -n "$(json_field "$field" <"$work/token.json")" ] ||
    fail "POST /identity/v3/auth/tokens: the body has no $field: $(cat "$work/token.json")"
done
# Both request ids on a compute answer, the same one (novaclient prints x-compute-request-id, the
# SDK and keystoneauth x-openstack-request-id).
compute_url=$(node -e '
  const { token } = JSON.parse(require("fs").readFileSync(0, "utf8"));
  const compute = token.catalog.find((s) => s.type === "compute") || { endpoints: [] };
  const e = compute.endpoints.find((e) => (e.region_id || e.region) === process.argv[1] && e.interface === "public");
  process.stdout.write(e ? e.url : "");
' "$region" <"$work/token.json")
[ -n "$compute_url" ] || fail "POST /identity/v3/auth/tokens: no public compute endpoint in $region: $(cat "$work/token.json")"
headers=$(curl -sS -o /dev/null -D - "$compute_url/servers" -H "x-auth-token: $token" | tr -d '\r')
grep -q '^HTTP/[0-9.]* 200' <<<"$headers" || fail "GET $compute_url/servers with the token: want 200; got $headers"
compute_id=$(sed -n 's/^[Xx]-[Cc]ompute-[Rr]equest-[Ii][Dd]: *//p' <<<"$headers")
openstack_id=$(sed -n 's/^[Xx]-[Oo]pen[Ss]tack-[Rr]equest-[Ii][Dd]: *//p' <<<"$headers")
[[ "$compute_id" =~ ^req-$uuid$ && "$compute_id" = "$openstack_id" ]] ||
  fail "GET $compute_url/servers: want x-compute-request-id and x-openstack-request-id, the same req-<uuid>; got $headers"
passed "GET /identity/v3 is v3 with a self link; POST auth/tokens is 201 with X-Subject-Token; compute answers carry both request ids"

step "2. token issue"
osc -- token issue -f json
expect_ok "token issue"
expect_field "token issue" project_id "$tenant"
expect_field "token issue" id '.{16,}'
expect_field "token issue" user_id '.+'
expires=$(out_field expires)
[ -n "$expires" ] && [ "$(date -d "$expires" +%s 2>/dev/null || echo 0)" -gt "$(date +%s)" ] ||
  fail "token issue: want expires in the future; $(printed)"
passed "the project is the tenant $tenant, the token expires at $expires"

step "3. catalog list"
osc -- catalog list -f value -c Type
out=$(sort <<<"$out")
expect_out "catalog list" "compute
identity
image
network"
osc -- catalog show compute -f json
expect_ok "catalog show compute"
compute_url=$(node -e '
  const { endpoints } = JSON.parse(require("fs").readFileSync(0, "utf8"));
  const e = (endpoints || []).find((e) => (e.region_id || e.region) === process.argv[1] && e.interface === "public");
  process.stdout.write(e ? e.url : "");
' "$region" <<<"$out")
[[ "$compute_url" =~ ^$url/compute(/$region)?/v2\.1/?$ ]] ||
  fail "catalog show compute: want a public endpoint $url/compute[/$region]/v2.1 in $region; $(printed)"
passed "compute, identity and image; compute's public endpoint in $region is $compute_url"

step "4. a wrong password is 401"
osc OS_PASSWORD=wrong -- server list
expect_error "server list with OS_PASSWORD=wrong" 1 \
  "The request you have made requires authentication\. \(HTTP 401\) $req_id"
passed "$err"

step "5. flavor list"
osc -- flavor list -f value -c Name -c RAM -c VCPUs
expect_ok "flavor list"
grep -qx "$flavor 1024 1" <<<"$out" || fail "flavor list: want a line '$flavor 1024 1'; $(printed)"
[ "$(wc -l <<<"$out")" -ge 9 ] || fail "flavor list: want the 9 instance types; $(printed)"
passed "$(wc -l <<<"$out") flavors, $flavor with 1024 MB and 1 vCPU"

step "6. image list"
osc -- image list -f value -c Name -c Status
expect_ok "image list"
grep -qx "cloudsim-debian-12 active" <<<"$out" || fail "image list: want a line 'cloudsim-debian-12 active'; $(printed)"
image=cloudsim-debian-12
images=$(wc -l <<<"$out")
osc -- image show "$image" -f value -c id
expect_ok "image show $image"
image_id=$out
[ -n "$image_id" ] || fail "image show $image: no id"
passed "$images images; $image is $image_id"

step "7. server create, no wait"
osc -- server create --flavor "$flavor" --image "$image" vm1 -f json
expect_ok "server create vm1"
expect_field "server create vm1" status BUILD
expect_field "server create vm1" OS-EXT-STS:vm_state building
expect_field "server create vm1" adminPass '.+'
expect_field "server create vm1" name vm1
vm1=$(out_field id)
[[ "$vm1" =~ ^$uuid$ ]] || fail "server create vm1: want a UUID id; $(printed)"
passed "vm1 $vm1 is BUILD/building"

step "8. server create --wait"
t0=$(date +%s)
osc -- server create --flavor "$flavor" --image "$image" --wait vm2 -f json
expect_ok "server create --wait vm2"
expect_field "server create --wait vm2" status ACTIVE
expect_field "server create --wait vm2" OS-EXT-STS:power_state 1
expect_field "server create --wait vm2" OS-EXT-STS:vm_state active
expect_field "server create --wait vm2" flavor "$flavor \($flavor\)"
expect_field "server create --wait vm2" image "$image \($image_id\)"
expect_field "server create --wait vm2" addresses '\{"[^"]+":\["?[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+.*'
vm2=$(out_field id)
[ $(($(date +%s) - t0)) -ge 5 ] || fail "server create --wait vm2: done in under 5 s, so --wait never saw BUILD"
passed "vm2 $vm2 ACTIVE after $(($(date +%s) - t0)) s, running, $(out_field addresses)"

step "9. server list"
wait_status vm1 ACTIVE 15
osc -- server list -f value -c Name -c Status
expect_out "server list" "vm2 ACTIVE
vm1 ACTIVE"
osc -- server list --name vm1 -f value -c ID -c Name
expect_out "server list --name vm1" "$vm1 vm1"
osc -- server list --status SHUTOFF -f value -c Name
expect_out "server list --status SHUTOFF" ""
osc -- server list --limit 1 -f value -c Name
expect_out "server list --limit 1" "vm2"
osc -- server list --limit 1 --marker "$vm2" -f value -c Name
expect_out "server list --limit 1 --marker vm2" "vm1"
osc -- server list -f json --noindent
expect_ok "server list -f json"
grep -q '"Networks": {"[^"]*": \["[0-9.]*"\]}' <<<"$out" || fail "server list: want Networks {net: [ip]}; $(printed)"
grep -q "\"Image\": \"$image\"" <<<"$out" || fail "server list: want the Image by name; $(printed)"
grep -q "\"Flavor\": \"$flavor\"" <<<"$out" || fail "server list: want the Flavor by name; $(printed)"
passed "newest first; --name, --status, --limit and --marker filter; Networks, Image and Flavor by name"

step "9b. microversions"
osc -- --os-compute-api-version 2.47 server list -f value -c Name -c Flavor
expect_out "server list at 2.47 (the flavor's original_name)" "vm2 $flavor
vm1 $flavor"
max_version=$(curl -sS "$compute_url/" | json_field version.version)
[[ "$max_version" =~ ^2\.[0-9]+$ ]] || fail "GET $compute_url/: want version.version 2.N; got $(curl -sS "$compute_url/")"
beyond="2.$((${max_version#2.} + 1))"
answer=$(curl -sS -w ' %{http_code}' "$compute_url/servers" -H "x-auth-token: $token" -H "openstack-api-version: compute $beyond")
[[ "$answer" =~ \"message\":\ ?\"Version\ $beyond\ is\ not\ supported\ by\ the\ API\.\ Minimum\ is\ 2\.1\ and\ maximum\ is\ $max_version\.\".*\ 406$ ]] ||
  fail "GET $compute_url/servers at compute $beyond: want 406 'Version $beyond is not supported by the API. Minimum is 2.1 and maximum is $max_version.'; got $answer"
passed "at 2.47 the flavor is its original_name; the face advertises 2.1 to $max_version, and $beyond is 406"

step "10. server show"
osc -- server show vm1 -f json
expect_ok "server show vm1"
expect_field "server show vm1" id "$vm1"
expect_field "server show vm1" status ACTIVE
expect_field "server show vm1" OS-EXT-STS:task_state ""
expect_field "server show vm1" OS-EXT-STS:power_state 1
expect_field "server show vm1" flavor "$flavor \($flavor\)"
expect_field "server show vm1" image "$image \($image_id\)"
osc -- server show nope
expect_error "server show nope" 1 "No server with a name or ID of 'nope' exists\."
osc -- server show 00000000-0000-4000-8000-000000000000
expect_error "server show <unknown uuid>" 1 "No server with a name or ID of '00000000-0000-4000-8000-000000000000' exists\."
passed "vm1 by name: ACTIVE, no task, running; unknown names and ids are not found"

step "11. server stop"
osc -- server stop vm1
expect_out "server stop vm1" ""
wait_status vm1 SHUTOFF 15
osc -- server show vm1 -f json
expect_ok "server show vm1 (stopped)"
expect_field "server show vm1 (stopped)" OS-EXT-STS:power_state 4
expect_field "server show vm1 (stopped)" OS-EXT-STS:vm_state stopped
expect_field "server show vm1 (stopped)" OS-EXT-STS:task_state ""
osc -- server list --status SHUTOFF -f value -c Name
expect_out "server list --status SHUTOFF" "vm1"
passed "vm1 SHUTOFF, power_state 4 (Shutdown), vm_state stopped"

step "12. server stop, again: 409"
osc -- server stop vm1
expect_error "server stop vm1 (stopped)" 1 \
  "Cannot 'stop' instance $vm1 while it is in vm_state stopped \(HTTP 409\) $req_id"
passed "$err"

step "13. server start, server reboot --wait"
osc -- server start vm1
expect_out "server start vm1" ""
wait_status vm1 ACTIVE 15
t0=$(date +%s)
osc -- server reboot --wait vm1
expect_ok "server reboot --wait vm1"
grep -q 'Complete' <<<"$out" || fail "server reboot --wait vm1: want 'Complete'; $(printed)"
[ $(($(date +%s) - t0)) -ge 5 ] || fail "server reboot --wait vm1: done in under 5 s, so --wait never saw REBOOT"
osc -- server show vm1 -f value -c status
expect_out "server show vm1 (rebooted)" "ACTIVE"
passed "vm1 started, then rebooted: Complete after $(($(date +%s) - t0)) s"

step "14. server event list"
osc -- server event list vm1 -f value -c Action
expect_out "server event list vm1" "reboot
start
stop
create"
osc -- server event list vm1 -f value -c 'Request ID' -c 'Server ID'
expect_ok "server event list vm1 (ids)"
[[ "$(head -n 1 <<<"$out")" =~ ^req-$uuid\ $vm1$ ]] || fail "server event list vm1: want 'req-<uuid> $vm1' lines; $(printed)"
passed "reboot, start, stop, create, newest first, each with its request id"

step "15. a third server is over the quota of 2: 403"
osc -- server create --flavor "$flavor" --image "$image" vm3
expect_error "server create vm3 (quota 2)" 1 \
  "Quota exceeded for instances: Requested 1, but already used 2 of 2 instances \(HTTP 403\) $req_id"
refusal=$err
osc -- server list -f value -c Name
expect_out "server list (after the refusal)" "vm2
vm1"
passed "$refusal; no server made"

step "16. token-style auth: v3token with the API key"
osc OS_AUTH_TYPE=v3token OS_TOKEN="$api_key" -u OS_USERNAME -u OS_PASSWORD -u OS_USER_DOMAIN_NAME -- server list -f value -c Name -c Status
expect_out "server list with OS_AUTH_TYPE=v3token" "vm2 ACTIVE
vm1 ACTIVE"
osc OS_AUTH_TYPE=v3token OS_TOKEN=csk_wrong -u OS_USERNAME -u OS_PASSWORD -u OS_USER_DOMAIN_NAME -- server list
expect_error "server list with OS_AUTH_TYPE=v3token OS_TOKEN=csk_wrong" 1 \
  "The request you have made requires authentication\. \(HTTP 401\) $req_id"
passed "the API key as a token lists the same servers; a wrong one is 401"

step "17. application credential: the key's id and the key"
osc OS_AUTH_TYPE=v3applicationcredential OS_APPLICATION_CREDENTIAL_ID="$key_id" \
  OS_APPLICATION_CREDENTIAL_SECRET="$api_key" -u OS_USERNAME -u OS_PASSWORD -u OS_PROJECT_NAME \
  -u OS_USER_DOMAIN_NAME -u OS_PROJECT_DOMAIN_NAME -- server list -f value -c Name -c Status
expect_out "server list with OS_AUTH_TYPE=v3applicationcredential" "vm2 ACTIVE
vm1 ACTIVE"
passed "the key as an application credential lists the same servers"

step "18. the requests of a server list, none refused"
osc -- --debug server list
[ "$rc" -eq 0 ] || fail "openstack --debug server list: want exit 0; $(printed)"
requests=$(grep -E '^REQ: curl' <<<"$err" | sed -E 's/^REQ: curl -g -i (--insecure )?-X ([A-Z]+) "?([^" ]*)"?.*/\2 \3/')
refused=$(grep -E '^RESP: \[[45][0-9][0-9]\]' <<<"$err" || true)
[ -z "$refused" ] || fail "openstack --debug server list: want no 4xx or 5xx; the requests:"$'\n'"$requests"$'\n'"refused:"$'\n'"$refused"
# NOVA.md §7 step 21, less the POST /identity/v3/auth/tokens, which keystoneauth does not log.
out=$requests err="(the debug log, left out)"
expect_lines "the requests of openstack --debug server list" "GET $url/identity/v3
GET $url/image/?
GET $compute_url/servers/detail
GET $url/image/v2/images
GET $compute_url/flavors/detail\?is_public=None"
passed "$(tr '\n' ',' <<<"${requests//$url/}" | sed 's/,$//; s/,/, /g'), all answered 2xx/3xx"

step "19. server delete --wait"
osc -- server delete --wait vm1
expect_out "server delete --wait vm1" ""
osc -- server list -f value -c Name
expect_out "server list (vm1 deleted)" "vm2"
osc -- server show "$vm1"
expect_error "server show <deleted vm1>" 1 "No server with a name or ID of '$vm1' exists\."
osc -- server event list "$vm1" -f value -c Action
expect_out "server event list <deleted vm1's id>" "delete
reboot
start
stop
create"
osc -- server delete --wait "$vm2"
expect_out "server delete --wait <vm2 id>" ""
osc -- server list -f value -c Name
expect_out "server list (both deleted)" ""
passed "vm1 by name and vm2 by id are gone; a deleted server's events, by its id, end in delete"

step "20. a network of its own, a key pair, a server on both, a floating IP (the README's lines)"
ssh-keygen -q -t ed25519 -N '' -C cli -f "$work/cli-key"
osc -- availability zone list --network -f value -c "Zone Name"
expect_out "availability zone list --network" "us-east-1a
us-east-1b
us-east-1c"
osc -- network create blue -f value -c name
expect_out "network create blue" "blue"
osc -- subnet create --network blue --subnet-range 192.168.5.0/24 blue-a -f value -c gateway_ip
expect_out "subnet create" "192\.168\.5\.1"
osc -- keypair create --public-key "$work/cli-key.pub" mine -f value -c name
expect_out "keypair create --public-key" "mine"
osc -- server create --flavor "$flavor" --image "$image" --network blue --key-name mine --wait vm3 -f value -c key_name -c status
# --wait prints an empty line of progress first.
expect_out "server create --network blue --key-name mine --wait" "
mine
ACTIVE"
osc -- floating ip create public -f value -c floating_ip_address
expect_ok "floating ip create public"
floating=$out
osc -- server add floating ip vm3 "$floating"
expect_out "server add floating ip vm3 $floating" ""
osc -- server show vm3 -f value -c addresses
expect_out "server show vm3 -c addresses" "\{'blue': \['192\.168\.5\.[0-9]+', '${floating//./\.}'\]\}"
osc -- port list --server vm3 -f value -c Status
expect_out "port list --server vm3" "ACTIVE"
osc -- floating ip delete "$floating"
expect_out "floating ip delete" ""
osc -- server delete --wait vm3
expect_out "server delete --wait vm3" ""
osc -- network delete blue
expect_out "network delete blue (its subnet with it)" ""
osc -- subnet list -f value -c Name
expect_ok "subnet list"
! grep -qx blue-a <<<"$out" || fail "subnet list: blue-a is still listed; $(printed)"
passed "network blue and subnet blue-a, key mine, vm3 on them ACTIVE with the key, floating IP $floating on it, then all deleted"

step "21. openstacksdk: sdk_check.py"
OS_USERNAME=$sdk_project OS_PASSWORD=$sdk_api_key OS_PROJECT_NAME=$sdk_project \
  SDK_TENANT_ID=$sdk_tenant SDK_KEY_ID=$sdk_key_id SDK_IMAGE=$image SDK_FLAVOR=$flavor \
  "$python" "$here/sdk_check.py" || fail "sdk_check.py"
