#!/usr/bin/env bash
# make openstack-ansible-test: Debian's ansible-core with Debian 13's openstack.cloud 2.4.1 and
# openstacksdk 4.4.0 (why: below) against the OpenStack face of a whole cloudsim of the test's own
# (scripts/run.ts with AUTH_REQUIRED=true on ports and a data folder of its own): world.yml twice
# (a key pair, a network and subnet, a security group and rule, a server waited for on that
# network, server_info, a floating IP), the second changing nothing; then lifecycle.yml twice
# (server_action stop and start, everything deleted), the second changing nothing. Every task must
# be ok. Stops everything it started, also on failure.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root"

test_name=openstack-ansible-test
# Seven ports from here: gateway, lifecycle, ipam, billing, reaper, Postgres, NATS.
base=${OPENSTACK_ANSIBLE_TEST_PORT:-18130}
data=$root/.data/openstack-ansible-test
admin_key=openstack-ansible-test-admin-key
url=http://127.0.0.1:$base
# shellcheck source=tests/lib/cloudsim-system.sh
source "$root/tests/lib/cloudsim-system.sh"

[ -x /usr/bin/ansible-playbook ] || fail "/usr/bin/ansible-playbook is missing (apt-get install ansible)"
system_ports_free OPENSTACK_ANSIBLE_TEST_PORT

# Debian bookworm's own pair does not work: its openstack.cloud 1.10 refuses its openstacksdk 0.101
# (MAXIMUM_SDK_VERSION 0.98.999 in module_utils/openstack.py) before any module runs, and with
# that bound lifted its server module fails on 0.101's resource objects. So the playbooks run on
# Debian 13 (trixie)'s pair, openstack.cloud 2.4.1 (from its ansible package) and openstacksdk
# 4.4.0, unpacked into .tools/ from deb.debian.org (each checked against the sha256 trixie's
# Packages index gives), under bookworm's ansible-core; the SDK's extra dependencies are
# bookworm's (python3-platformdirs, -psutil, -typing-extensions: .ci/run installs them).
tools=$root/.tools/openstack-ansible
fetch_deb() { # NAME POOL-PATH SHA256: the .deb, downloaded once into $tools
  [ -f "$tools/$1" ] && return 0
  mkdir -p "$tools"
  say "fetching $1 from deb.debian.org (trixie)"
  curl -sSf --retry 3 -m 300 -o "$tools/$1.part" "http://deb.debian.org/debian/pool/main/$2/$1" || fail "could not download $1"
  echo "$3  $tools/$1.part" | sha256sum -c --quiet - || fail "$1 does not match its sha256"
  mv "$tools/$1.part" "$tools/$1"
}
ansible_deb=ansible_12.0.0+dfsg-0+deb13u1_all.deb
sdk_deb=python3-openstacksdk_4.4.0-5_all.deb
fetch_deb "$ansible_deb" a/ansible 2cda0351cdc47a48c224dde517aaff53a5977ab935faeccdd0f595b58df37adf
fetch_deb "$sdk_deb" p/python-openstacksdk 713066a6b3087d04a19c9715734c2139930f8524d2abbed091a2f18ae046ad0f
site=$tools/root/usr/lib/python3/dist-packages
if [ ! -d "$site/ansible_collections/openstack/cloud" ] || [ ! -d "$site/openstack" ]; then
  rm -rf "$tools/root" && mkdir -p "$tools/root"
  dpkg-deb --fsys-tarfile "$tools/$ansible_deb" |
    tar -x -C "$tools/root" ./usr/lib/python3/dist-packages/ansible_collections/openstack/cloud
  dpkg-deb -x "$tools/$sdk_deb" "$tools/root"
fi
export ANSIBLE_COLLECTIONS_PATH=$site PYTHONPATH=$site
/usr/bin/python3 -c 'import openstack, sys; sys.exit(openstack.version.__version__ != "4.4.0")' ||
  fail "openstacksdk 4.4.0 does not import from $site (apt-get install python3-platformdirs python3-psutil python3-typing-extensions)"

system_start PROVISION_DELAY=1s START_DELAY=1s STOP_DELAY=1s REBOOT_DELAY=1s TERMINATE_DELAY=1s
say "the system is up on $url in $(($(date +%s) - started)) s"

read -r _ _ api_key <<<"$(system_tenant os-ansible)"

# The cloud as openstack.cloud reads it: clouds.yaml of the test's own, none of this machine's
# OS_* settings.
while read -r name; do unset "$name"; done < <(env | sed -n 's/^\(OS_[A-Za-z0-9_]*\)=.*/\1/p')
cat >"$work/clouds.yaml" <<YAML
clouds:
  cloudsim:
    auth:
      auth_url: $url/identity/v3
      username: os-ansible
      password: $api_key
      project_name: os-ansible
      user_domain_name: Default
      project_domain_name: Default
    region_name: us-east-1
    identity_api_version: 3
    interface: public
YAML
ssh-keygen -q -t ed25519 -N '' -C ansible -f "$work/key"
export OS_CLIENT_CONFIG_FILE=$work/clouds.yaml PLAYBOOK_PUBLIC_KEY=$work/key.pub HOME=$work \
  ANSIBLE_LOCAL_TEMP=$work/ansible-tmp ANSIBLE_HOME=$work/ansible ANSIBLE_NOCOLOR=1 \
  ANSIBLE_FORCE_COLOR=0 ANSIBLE_PYTHON_INTERPRETER=/usr/bin/python3 PYTHONWARNINGS=ignore

# shellcheck source=tests/lib/playbook.sh
source "$root/tests/lib/playbook.sh"

play world.yml first
play world.yml second
play lifecycle.yml first
play lifecycle.yml second
