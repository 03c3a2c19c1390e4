#!/usr/bin/env bash
# Installs what is missing, builds in release mode, and runs the local cluster with the supervisor:
# `datacentered start --config Config/datacentered.json` (memcached, one gateway, two echo workers
# on loopback). Ctrl-C stops everything. Any configuration key can be added as a flag, e.g.
#   Deploy/run-local.sh --gateway-count 2 --worker-count 4
#
# Environment: DATACENTERED_SECRET_KEY (random when unset), and any DATACENTERED_<KEY> (README, Configuration).
set -euo pipefail
cd "$(dirname "$0")/.."

bash Deploy/install-deps.sh
swift build -c release --product datacentered
export DATACENTERED_SECRET_KEY=${DATACENTERED_SECRET_KEY:-$(head -c 18 /dev/urandom | base64)}

echo
echo "DataCentered (echo demo): connect to ws://127.0.0.1:8282/ (python3 -m websockets ws://127.0.0.1:8282/)"
echo "  a message starting with B goes to every client; anything else comes back to you"
echo "  in another terminal: .build/release/datacentered status | connections | reload | stop"
echo "  metrics: http://127.0.0.1:9464/metrics   press Ctrl-C to stop"
echo
exec .build/release/datacentered start --config Config/datacentered.json "$@"
