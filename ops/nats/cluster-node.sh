#!/bin/sh
# How docker-compose.yml starts a node of the cluster profile (nats-1, nats-2, nats-3): nats-server
# with cluster.conf, once it has checked that the services were pointed at the cluster too. A
# profile only adds containers; the services' NATS servers and stream copies come from
# NATS_SERVERS and NATS_STREAM_REPLICAS (README: A three-node NATS cluster with Compose), which
# Compose hands this node as SERVICES_NATS_URL and SERVICES_STREAM_REPLICAS. Without them the
# services would keep every stream, once, on the single nats while three nodes idle: refuse.
set -e
case ",$SERVICES_NATS_URL," in
  *",nats://$NATS_SERVER_NAME:4222,"*) ;;
  *)
    echo "$NATS_SERVER_NAME: the services use NATS_URL=$SERVICES_NATS_URL, not this cluster: set" \
      "NATS_SERVERS=nats://nats-1:4222,nats://nats-2:4222,nats://nats-3:4222 and NATS_STREAM_REPLICAS=3" \
      "(in .env or the environment) with --profile cluster" >&2
    exit 78
    ;;
esac
if [ "$SERVICES_STREAM_REPLICAS" -lt 2 ]; then
  echo "$NATS_SERVER_NAME: the services keep STREAM_REPLICAS=$SERVICES_STREAM_REPLICAS copies of each stream:" \
    "set NATS_STREAM_REPLICAS=3 with --profile cluster" >&2
  exit 78
fi
exec nats-server -c /etc/nats/cluster.conf "$@"
