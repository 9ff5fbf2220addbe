# shellcheck shell=bash
# play PLAYBOOK first|second: runs tests/<suite>/PLAYBOOK ($here) on localhost with
# /usr/bin/ansible-playbook and checks its recap: none failed or unreachable, and on its second run
# none changed (on its first, something did). Source it after tests/lib/cloudsim-system.sh (say, fail).
play() {
  local out recap
  out=$(/usr/bin/ansible-playbook -i localhost, -c local "$here/$1" 2>&1) || {
    echo "$out"
    fail "$1 failed"
  }
  recap=$(grep -E '^localhost +:' <<<"$out") || {
    echo "$out"
    fail "$1 printed no recap"
  }
  say "$1 ($2 run): $recap"
  [[ "$recap" =~ failed=0 ]] && [[ "$recap" =~ unreachable=0 ]] || fail "$1: $recap"
  if [ "$2" = second ] && ! [[ "$recap" =~ changed=0 ]]; then
    echo "$out" | grep -B1 -A3 '^changed:' || true
    fail "$1's second run changed something: $recap"
  fi
  if [ "$2" = first ] && [[ "$recap" =~ changed=0 ]]; then fail "$1's first run changed nothing: $recap"; fi
}
