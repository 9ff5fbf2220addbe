#!/bin/sh
# As the official image's: arguments that start with a dash are nats-server's.
set -e
if [ "${1#-}" != "$1" ]; then set -- nats-server "$@"; fi
exec "$@"
