#!/usr/bin/env bash
# make ansible-test: Debian's ansible (amazon.aws 5.5) against a whole cloudsim of the test's own
# (scripts/run.ts with AUTH_REQUIRED=true on ports and a data folder of its own): world.yml twice,
# the second changing nothing, then lifecycle.yml twice, the second changing nothing. Every task
# must be ok; the recap of each run is printed. Stops everything it started, also on failure.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root"

test_name=ansible-test
# Seven ports from here: gateway, lifecycle, ipam, billing, reaper, Postgres, NATS.
base=${ANSIBLE_TEST_PORT:-18110}
data=$root/.data/ansible-test
admin_key=ansible-test-admin-key
url=http://localhost:$base
# shellcheck source=tests/lib/cloudsim-system.sh
source "$root/tests/lib/cloudsim-system.sh"

[ -x /usr/bin/ansible-playbook ] || fail "/usr/bin/ansible-playbook is missing (apt-get install ansible)"
[ -d /usr/lib/python3/dist-packages/ansible_collections/amazon/aws ] ||
  fail "the amazon.aws collection is missing (Debian's ansible brings it)"
system_ports_free ANSIBLE_TEST_PORT

system_start PROVISION_DELAY=500ms START_DELAY=500ms STOP_DELAY=500ms REBOOT_DELAY=500ms \
  TERMINATE_DELAY=500ms VOLUME_CREATE_DELAY=500ms VOLUME_ATTACH_DELAY=500ms \
  VOLUME_DETACH_DELAY=500ms VOLUME_DELETE_DELAY=500ms
say "the system is up on $url in $(($(date +%s) - started)) s"

system_aws_pair ansible
export CLOUDSIM_URL=$url AWS_REGION=us-east-1 AWS_CONFIG_FILE=$work/aws-config \
  AWS_SHARED_CREDENTIALS_FILE=$work/aws-credentials ANSIBLE_LOCAL_TEMP=$work/ansible-tmp \
  ANSIBLE_HOME=$work/ansible ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0 ANSIBLE_PYTHON_INTERPRETER=/usr/bin/python3

# shellcheck source=tests/lib/playbook.sh
source "$root/tests/lib/playbook.sh"

play world.yml first
play world.yml second
play lifecycle.yml first
play lifecycle.yml second
