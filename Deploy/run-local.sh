#!/usr/bin/env bash
# Installs what is missing, builds in release mode, and runs a local cluster on loopback:
# memcached, one gateway and two echo workers. Prints the WebSocket address; Ctrl-C stops everything.
#
# Environment: DATACENTERED_PORT (public WebSocket port, default 8282), DATACENTERED_LAN_PORT (2900),
# DATACENTERED_MEMCACHED_PORT (11311), DATACENTERED_SECRET_KEY (random when unset).
set -euo pipefail
cd "$(dirname "$0")/.."

bash Deploy/install-deps.sh
swift build -c release --product datacentered
bin=.build/release/datacentered

public_port=${DATACENTERED_PORT:-8282}
lan_port=${DATACENTERED_LAN_PORT:-2900}
memcached_port=${DATACENTERED_MEMCACHED_PORT:-11311}
export DATACENTERED_SECRET_KEY=${DATACENTERED_SECRET_KEY:-$(head -c 18 /dev/urandom | base64)}
run_dir=$(mktemp -d -t datacentered-local.XXXXXX)

pids=()
stop_all() {
  trap - EXIT INT TERM
  echo "stopping..."
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  echo "stopped; logs in $run_dir"
}
trap stop_all EXIT INT TERM

wait_for_line() { # file, text, seconds
  local deadline=$((SECONDS + $3))
  until grep -q "$2" "$1" 2>/dev/null; do
    if ((SECONDS >= deadline)); then echo "timed out waiting for '$2' in $1:" >&2; tail -20 "$1" >&2; exit 1; fi
    sleep 0.1
  done
}

# memcached refuses to run as root without -u: drop to Debian's memcache user when there is one.
memcached_user=()
if [ "$(id -u)" -eq 0 ]; then
  if id memcache >/dev/null 2>&1; then memcached_user=(-u memcache); else memcached_user=(-u root); fi
fi
memcached -l 127.0.0.1 -p "$memcached_port" -U 0 -m 64 "${memcached_user[@]}" >"$run_dir/memcached.log" 2>&1 &
pids+=($!)
deadline=$((SECONDS + 10))
until (exec 3<>"/dev/tcp/127.0.0.1/$memcached_port") 2>/dev/null; do
  if ((SECONDS >= deadline)); then echo "memcached did not start on port $memcached_port" >&2; exit 1; fi
  sleep 0.1
done

"$bin" gateway --listen "127.0.0.1:$public_port" --lan-ip 127.0.0.1 --lan-port "$lan_port" \
  --memcached "127.0.0.1:$memcached_port" >"$run_dir/gateway.log" 2>&1 &
pids+=($!)
wait_for_line "$run_dir/gateway.log" "gateway ready" 30

for name in worker-1 worker-2; do
  "$bin" worker --name "$name" --handler echo --memcached "127.0.0.1:$memcached_port" >"$run_dir/$name.log" 2>&1 &
  pids+=($!)
done
for name in worker-1 worker-2; do wait_for_line "$run_dir/$name.log" "linked to gateway" 30; done

echo
echo "DataCentered is running (echo demo): connect to ws://127.0.0.1:$public_port/"
echo "  a message starting with B goes to every client; anything else comes back to you"
echo "  logs: $run_dir   press Ctrl-C to stop"
wait -n "${pids[@]}" || true
echo "a process exited; see the logs in $run_dir" >&2
