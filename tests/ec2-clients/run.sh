#!/usr/bin/env bash
# make ec2-clients-test: Debian's AWS CLI (awscli 2.9) and boto3 (1.26) against a whole cloudsim of
# the test's own (scripts/run.ts with AUTH_REQUIRED=true on ports and a data folder of its own, so
# a `make run` may keep running): the README's CLI example as printed, its boto3 example, then
# boto3_check.py. Stops everything it started, also on failure, and checks that nothing is left.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root"

aws_cli=/usr/bin/aws
python=/usr/bin/python3
test_name=ec2-clients-test
# Seven ports from here: gateway, lifecycle, ipam, billing, reaper, Postgres, NATS.
base=${EC2_CLIENTS_TEST_PORT:-18080}
data=$root/.data/ec2-clients-test
admin_key=ec2-clients-test-admin-key
url=http://localhost:$base
# shellcheck source=tests/lib/cloudsim-system.sh
source "$root/tests/lib/cloudsim-system.sh"

[ -x "$aws_cli" ] || fail "$aws_cli is missing (apt-get install awscli)"
"$python" -c 'import boto3' 2>/dev/null || fail "$python has no boto3 (apt-get install python3-boto3)"
system_ports_free EC2_CLIENTS_TEST_PORT

system_start PROVISION_DELAY=500ms START_DELAY=500ms STOP_DELAY=500ms REBOOT_DELAY=500ms \
  TERMINATE_DELAY=500ms EC2_STATUS_CHECK_DELAY=2s VOLUME_CREATE_DELAY=500ms VOLUME_ATTACH_DELAY=500ms \
  VOLUME_DETACH_DELAY=500ms VOLUME_DELETE_DELAY=500ms
say "the system is up on $url in $(($(date +%s) - started)) s"

system_aws_pair ec2-clients
# The clients as the README has them: endpoint and keys from the environment, none of this
# machine's AWS config files.
export CLOUDSIM_URL=$url AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 AWS_PAGER="" \
  AWS_CONFIG_FILE=$work/aws-config AWS_SHARED_CREDENTIALS_FILE=$work/aws-credentials
mkdir "$work/bin"
ln -s "$aws_cli" "$work/bin/aws"

# The README's fenced block between `<!-- $1:start -->` and `<!-- $1:end -->`, without its fences.
readme_block() {
  sed -n "/^<!-- $1:start -->\$/,/^<!-- $1:end -->\$/p" README.md | grep -v -e '^<!-- ' -e '^```'
}
# Each line of $1 must match the regex on the same line of $2.
expect_lines() {
  local got want i
  mapfile -t got <<<"$1"
  mapfile -t want <<<"$2"
  for i in "${!want[@]}"; do
    [[ "${got[i]:-}" =~ ^${want[i]}$ ]] ||
      fail "$3: line $((i + 1)) is '${got[i]:-}', want /${want[i]}/; all of it:"$'\n'"$1"
  done
  [ "${#got[@]}" -eq "${#want[@]}" ] || fail "$3: ${#got[@]} lines, want ${#want[@]}; all of it:"$'\n'"$1"
}

readme_block ec2-cli-example >"$work/cli-example.sh"
[ -s "$work/cli-example.sh" ] || fail "README.md has no block between the ec2-cli-example markers"
cli_out=$(PATH="$work/bin:$PATH" bash -euo pipefail "$work/cli-example.sh") ||
  fail "the README's CLI example failed; it printed:"$'\n'"$cli_out"
id=$(head -n 1 <<<"$cli_out")
expect_lines "$cli_out" "i-[0-9a-f]{17}
$id	running	us-east-1[a-f]
stopping
pending
env	dev
owner	me
shutting-down
terminated" "the README's CLI example"
# One server in both APIs: the instance in the REST API, by its i- id.
server=$(curl -sf "$url/servers/$id" -H "authorization: Bearer $AWS_SECRET_ACCESS_KEY")
[ "$(json_field instance_id <<<"$server") $(json_field state <<<"$server")" = "$id terminated" ] ||
  fail "GET /servers/$id answered $server"
say "the README's CLI example ran as printed ($id: running, stopped, started, tagged, terminated)"

readme_block ec2-boto3-example >"$work/boto3-example.py"
[ -s "$work/boto3-example.py" ] || fail "README.md has no block between the ec2-boto3-example markers"
boto3_out=$("$python" "$work/boto3-example.py") ||
  fail "the README's boto3 example failed; it printed:"$'\n'"$boto3_out"
expect_lines "$boto3_out" "i-[0-9a-f]{17} running eu-west-1[a-f]
i-[0-9a-f]{17} running eu-west-1[a-f]" "the README's boto3 example"
say "the README's boto3 example ran as printed"

readme_block ec2-world-cli-example >"$work/world-example.sh"
[ -s "$work/world-example.sh" ] || fail "README.md has no block between the ec2-world-cli-example markers"
world_out=$(cd "$work" && PATH="$work/bin:$PATH" bash -euo pipefail "$work/world-example.sh") ||
  fail "the README's VPC example failed; it printed:"$'\n'"$world_out"
expect_lines "$world_out" "10\.30\.1\.0/28	11
tcp	443	0\.0\.0\.0/0
-----BEGIN RSA PRIVATE KEY-----
attaching
subnet-[0-9a-f]{17}	web	web-key	[0-9.]+
in-use	/dev/sdf
DependencyViolation
detaching
InvalidVpcID\.NotFound" "the README's VPC example"
say "the README's VPC example ran as printed (VPC, subnet, group, key, instance, volume, address, all removed)"

readme_block clock-boto3-example >"$work/clock-example.py"
[ -s "$work/clock-example.py" ] || fail "README.md has no block between the clock-boto3-example markers"
clock_out=$(ADMIN_API_KEY=$admin_key "$python" "$work/clock-example.py") ||
  fail "the README's clock example failed; it printed:"$'\n'"$clock_out"
expect_lines "$clock_out" "terminated" "the README's clock example"
say "the README's clock example ran as printed (a month's idle minutes in a moment)"

"$python" "$here/boto3_check.py" || fail "boto3_check.py"
