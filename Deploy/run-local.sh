#!/usr/bin/env bash
# Installs what is missing, builds in release mode, and runs the whole product on this machine with
# the supervisor: `datacentered start --config Config/datacentered.json` (memcached, one gateway
# serving the dashboard, two workers running the datacenter handler, and this machine's host agent
# with the demo allow-list of Config/agent.local.json). `start` issues a new operator token at
# every run and prints it, with the dashboard's address, to this terminal only. Ctrl-C stops everything.
# Any configuration key can be added as a flag, e.g.
#   Deploy/run-local.sh --gateway-count 2 --worker-count 4
#   Deploy/run-local.sh --config Config/echo.json      # the echo demo instead of the datacenter
#
# Environment: DATACENTERED_SECRET_KEY (random when unset), and any DATACENTERED_<KEY> (README, Configuration).
set -euo pipefail
cd "$(dirname "$0")/.."

bash Deploy/install-deps.sh
swift build -c release --product datacentered
export DATACENTERED_SECRET_KEY=${DATACENTERED_SECRET_KEY:-$(head -c 18 /dev/urandom | base64)}

config=(--config Config/datacentered.json)
for argument in "$@"; do
    [[ $argument == --config || $argument == --config=* ]] && config=()
done
exec .build/release/datacentered start "${config[@]}" "$@"
