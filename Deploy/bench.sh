#!/usr/bin/env bash
# Benchmarks the DataCentered cluster (memcached + gateways + echo workers) against echo-ceiling,
# a single-hop SwiftNIO WebSocket server with the same echo / broadcast semantics and the same
# WebSocket frame reader and writer (the WebSocketFrames target). Loopback only.
#
#   make bench                       # everything (about 8-10 minutes)
#   BENCH_QUICK=1 make bench         # small counts, a smoke check (about 2-3 minutes)
#   BENCH_ONLY=ceiling Deploy/bench.sh   # echo-ceiling alone (no memcached, no cluster)
#   BENCH_ONLY=idle Deploy/bench.sh      # the cluster's idle steps alone (10,000 and BENCH_IDLE_MAX)
#
# Cluster layouts, each measured whole (gateways and workers counted together):
#   default      one gateway process with its default event loops (one per core), one echo worker
#   recommended  BENCH_GATEWAYS gateway processes x BENCH_GATEWAY_LOOPS loops sharing the port
#                (SO_REUSEPORT), BENCH_WORKERS echo workers
#   spread       the largest idle step: enough 1-loop gateways for BENCH_IDLE_MAX connections
#                (at most 14,000 each: a process may hold 20,000 descriptors), one worker
# Tests: rtt with 1, 100, 1000 clients; fanout to 1000 subscribers; idle at 10,000 (and
# BENCH_IDLE_MAX, default 100,000) connections; then the same rtt, fanout and idle 10k against
# echo-ceiling (and, with BENCH_CEILING_BEFORE, rtt and fanout against an older echo-ceiling).
# For each test, over the measured window: throughput, latency, server CPU per operation, server
# context switches per operation (every thread's voluntary + involuntary, /proc/PID/task/*/status)
# and server heap allocations per operation (malloc, calloc, realloc and aligned allocations,
# counted by Deploy/bench-malloc-count.c, compiled here and loaded with LD_PRELOAD into the
# servers only). Idle tests: the gateways' resident memory per connection, allocations per
# connection opened, and the servers' CPU, wake-ups and allocations while every connection sits
# idle for BENCH_IDLE_WINDOW seconds (no busy polling: ~0). With BENCH_CALLGRIND=1, rtt with 1 and
# 100 clients against each echo-ceiling binary on one event loop under valgrind's callgrind: the
# user-space instructions per round trip, a count the machine's load does not change.
# Output: a table at the end, results in $BENCH_OUT (results.jsonl, summary.json, one log per
# process), and a last line `BENCH_SUMMARY {...}`.
#
# Environment (all optional):
#   BENCH_QUICK=1            small counts and short runs
#   BENCH_ONLY=all|cluster|ceiling|idle   idle: each layout's idle step and the spread step, no rtt,
#                            fanout or ceiling
#   BENCH_LAYOUTS="default recommended"   cluster layouts to measure (rtt, fanout, idle small)
#   BENCH_IDLE_MAX=N         largest idle step (default 100000; <= the small step skips it)
#   BENCH_IDLE_WINDOW=S      seconds the idle connections are watched (default 5)
#   BENCH_DURATION=S         measured seconds per rtt/fanout test (default 10)
#   BENCH_WARMUP=S           warm-up seconds (default 2)
#   BENCH_GATEWAYS=N         gateway processes of the recommended layout (default 2)
#   BENCH_GATEWAY_LOOPS=N    --event-loops of each of its gateways (default 1)
#   BENCH_WORKERS=N          its echo workers (default 2)
#   BENCH_CEILING_LOOPS=N    echo-ceiling event loops (default: cores)
#   BENCH_CEILING_BEFORE=PATH  an older echo-ceiling binary, measured too (target ceiling-before)
#   BENCH_CALLGRIND=1        also count echo-ceiling's instructions per round trip (valgrind)
#   BENCH_LOADGEN_LOOPS=N    load generator event loops (default: cores)
#   BENCH_NO_MALLOC_COUNT=1  run the servers without the allocation counter
#   BENCH_NO_BUILD=1         use the existing release build
#   BENCH_DATACENTERED=PATH  the cluster binary (default .build/release/datacentered)
#   BENCH_OUT=DIR            where logs and results go (default .build/bench/<timestamp>)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
source "$ROOT/Deploy/bench-lib.sh"
BIN="$ROOT/.build/release"

QUICK="${BENCH_QUICK:-0}"
ONLY="${BENCH_ONLY:-all}"
CORES="$(nproc)"
if [ "$QUICK" = 1 ]; then
  DURATION="${BENCH_DURATION:-3}"
  WARMUP="${BENCH_WARMUP:-1}"
  RTT_CLIENTS=(1 10 100)
  FANOUT_CLIENTS="${BENCH_FANOUT_CLIENTS:-100}"
  IDLE_SMALL=2000
  IDLE_MAX="${BENCH_IDLE_MAX:-4000}"
  IDLE_PER_PROCESS=1000
  IDLE_WINDOW="${BENCH_IDLE_WINDOW:-2}"
else
  DURATION="${BENCH_DURATION:-10}"
  WARMUP="${BENCH_WARMUP:-2}"
  RTT_CLIENTS=(1 100 1000)
  FANOUT_CLIENTS="${BENCH_FANOUT_CLIENTS:-1000}"
  IDLE_SMALL=10000
  IDLE_MAX="${BENCH_IDLE_MAX:-100000}"
  IDLE_PER_PROCESS=15000   # each process may hold at most 20,000 descriptors
  IDLE_WINDOW="${BENCH_IDLE_WINDOW:-5}"
fi
LAYOUTS="${BENCH_LAYOUTS:-default recommended}"
GATEWAYS="${BENCH_GATEWAYS:-2}"
GATEWAY_LOOPS="${BENCH_GATEWAY_LOOPS:-1}"
WORKERS="${BENCH_WORKERS:-2}"
CEILING_LOOPS="${BENCH_CEILING_LOOPS:-$CORES}"
CEILING_BEFORE="${BENCH_CEILING_BEFORE:-}"
LOADGEN_LOOPS="${BENCH_LOADGEN_LOOPS:-$CORES}"
CONNECTIONS_PER_GATEWAY=14000  # leaves room below the 20,000-descriptor limit for uneven spreading
OUT="${BENCH_OUT:-$ROOT/.build/bench/$(date +%Y%m%d-%H%M%S)}"
RESULTS="$OUT/results.jsonl"
SECRET="bench-$(head -c 18 /dev/urandom | base64)"
CLK_TCK="$(getconf CLK_TCK)"
DATACENTERED="${BENCH_DATACENTERED:-$BIN/datacentered}"
MALLOC_DIR="$OUT/malloc-count"

case "$ONLY" in all|cluster|ceiling|idle) ;; *) echo "bench: BENCH_ONLY must be all, cluster, ceiling or idle" >&2; exit 2 ;; esac
for layout in $LAYOUTS; do
  case "$layout" in default|recommended) ;; *) echo "bench: BENCH_LAYOUTS takes default and recommended" >&2; exit 2 ;; esac
done
if [ -n "$CEILING_BEFORE" ] && [ ! -x "$CEILING_BEFORE" ]; then
  echo "bench: BENCH_CEILING_BEFORE=$CEILING_BEFORE is not an executable" >&2; exit 2
fi
mkdir -p "$OUT" "$MALLOC_DIR"
: > "$RESULTS"

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*"; }

# ---------------------------------------------------------------- processes we started
PIDS=()
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  local pid
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  local deadline=$((SECONDS + 10))
  for pid in "${PIDS[@]}"; do
    while kill -0 "$pid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  wait 2>/dev/null || true
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start NAME CMD... : runs CMD in the background, output to $OUT/NAME.log; sets STARTED_PID.
start() {
  local name="$1"; shift
  "$@" > "$OUT/$name.log" 2>&1 &
  STARTED_PID=$!
  PIDS+=("$STARTED_PID")
}

# stop PID... : TERM, then KILL after 10 s.
stop() {
  local pid deadline=$((SECONDS + 10))
  for pid in "$@"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "$@"; do
    while kill -0 "$pid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
}

# wait_for_lines FILE PATTERN COUNT TIMEOUT [PID] : until FILE has COUNT lines matching PATTERN.
wait_for_lines() {
  local file="$1" pattern="$2" count="$3" timeout="$4" pid="${5:-}"
  local deadline=$((SECONDS + timeout)) n
  while :; do
    n="$(grep -c -- "$pattern" "$file" 2>/dev/null || true)"
    [ "${n:-0}" -ge "$count" ] && return 0
    if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
      # One last look: the line may have been written just before the process ended.
      n="$(grep -c -- "$pattern" "$file" 2>/dev/null || true)"
      [ "${n:-0}" -ge "$count" ] && return 0
      log "process $pid ended before '$pattern' appeared in $file"; return 1
    fi
    [ "$SECONDS" -ge "$deadline" ] && { log "timed out after ${timeout}s waiting for '$pattern' in $file"; return 1; }
    sleep 0.05
  done
}

# wait_port PORT TIMEOUT
wait_port() {
  local deadline=$((SECONDS + $2))
  until (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; do
    [ "$SECONDS" -ge "$deadline" ] && { log "timed out waiting for port $1"; return 1; }
    sleep 0.05
  done
}

# wait_pid PID TIMEOUT : waits for a process we started; kills it after TIMEOUT.
wait_pid() {
  local pid="$1" deadline=$((SECONDS + $2))
  while kill -0 "$pid" 2>/dev/null; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      log "process $pid still running after $2 s: killing it"; stop "$pid"; return 1
    fi
    sleep 0.1
  done
  wait "$pid" 2>/dev/null || true
}

# sample PID... : one JSON object of the processes' summed counters (loadgen server-counters: CPU
# clock ticks, context switches of every thread, heap counts or null); a process that is gone counts 0.
sample() {
  local IFS=,
  "$BIN/loadgen" server-counters --malloc-count-dir "$MALLOC_DIR" --server-pids "$*"
}

# delta PREFIX BEFORE AFTER : the figures of a window (two samples) as KEY=VALUE lines for `record`,
# PREFIX before each key: CPU seconds, context switches, allocations, and the growth of the live heap
# (bytes allocated minus bytes freed).
delta() {
  python3 - "$1" "$2" "$3" "$CLK_TCK" <<'PY'
import json, sys
prefix, a, b, tck = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3]), int(sys.argv[4])
print(f"{prefix}cpu_s={round((b['ticks'] - a['ticks']) / tck, 3)}")
print(f"{prefix}context_switches={b['switches'] - a['switches']}")
if a["heap"] is not None and b["heap"] is not None:
    grown = [after - before for before, after in zip(a["heap"], b["heap"])]
    print(f"{prefix}allocations={grown[0]}")
    print(f"{prefix}heap_bytes={grown[2] - grown[3]}")
PY
}

# record JSON_LINE KEY=VALUE... : adds fields to a loadgen JSON summary, and the server's figures
# per operation, and appends it to the results.
record() {
  local json="$1"; shift
  python3 - "$json" "$@" >> "$RESULTS" <<'PY'
import json, sys
row = json.loads(sys.argv[1])
for pair in sys.argv[2:]:
    key, _, value = pair.partition("=")
    try:
        row[key] = json.loads(value)
    except ValueError:
        row[key] = value
ops = row.get("ops") or 0
for key, per_op, scale, digits in (("server_cpu_s", "server_cpu_us_per_op", 1e6, 3),
                                   ("server_context_switches", "server_switches_per_op", 1, 2),
                                   ("server_allocations", "server_allocations_per_op", 1, 2),
                                   ("user_instructions", "user_instructions_per_op", 1, 0)):
    if key in row and ops:
        row[per_op] = round(row[key] * scale / ops, digits)
print(json.dumps(row))
PY
}

# failed_row TARGET TEST REASON : records a test that produced no summary.
failed_row() {
  python3 -c 'import json,sys; print(json.dumps({"target":sys.argv[1],"test":sys.argv[2],"error":sys.argv[3]}))' "$1" "$2" "$3" >> "$RESULTS"
}

# ---------------------------------------------------------------- one measured loadgen run
# run_measured TARGET TEST "SERVER_PIDS" LOADGEN_ARGS... : rtt or fanout; loadgen reads the servers'
# counters at the exact edges of its measured window and reports them (server_* fields).
run_measured() {
  local target="$1" test="$2" spids="$3"; shift 3
  local name="$target-$test" lg pid server_pids=()
  for pid in $spids; do server_pids+=("$pid"); done
  log "$target: $test"
  start "$name" "$BIN/loadgen" "$@" --duration "$DURATION" --warmup "$WARMUP" \
    --event-loops "$LOADGEN_LOOPS" --label "$name" \
    --server-pids "$(IFS=,; echo "${server_pids[*]}")" --malloc-count-dir "$MALLOC_DIR"
  lg=$STARTED_PID
  wait_pid "$lg" $((WARMUP + DURATION + 420)) || true
  for pid in $spids; do
    kill -0 "$pid" 2>/dev/null || { failed_row "$target" "$test" "server process $pid ended during the test"; return 0; }
  done
  local json
  json="$(tail -n 1 "$OUT/$name.log")"
  if [[ "$json" != "{"* ]]; then failed_row "$target" "$test" "no JSON summary (see $name.log)"; return 0; fi
  record "$json" "target=$target" "test=$test"
  tail -n 1 "$RESULTS" | python3 -c 'import json,sys; r=json.load(sys.stdin); print("    %.0f ops/s  p50 %s us  p99 %s us  lost %s  server %.2f CPU s: %s us, %s context switches, %s allocations per op" % (r["ops_per_sec"], r["p50_us"], r["p99_us"], r["lost"], r["server_cpu_s"], r.get("server_cpu_us_per_op", "-"), r.get("server_switches_per_op", "-"), r.get("server_allocations_per_op", "-")))'
}

# ---------------------------------------------------------------- idle connections
# run_idle TARGET TEST N URL "RSS_PIDS" "SERVER_PIDS" : N connections spread over several loadgen
# processes, each with its own 127.0.0.x source address. RSS_PIDS' resident memory is sampled
# before and after opening them; SERVER_PIDS (RSS_PIDS and any workers) over the opening and over
# IDLE_WINDOW seconds with every connection open and silent; then each connection echoes once.
run_idle() {
  local target="$1" test="$2" total="$3" url="$4" rpids="$5" spids="$6"
  local procs=$(( (total + IDLE_PER_PROCESS - 1) / IDLE_PER_PROCESS ))
  local release="$OUT/$target-$test.release" k share lgs=() names=()
  rm -f "$release"
  log "$target: $test ($total connections, $procs load generator processes)"
  local rss0 rss1 s0 s1 s2 g0 g1 t0 t1
  # shellcheck disable=SC2086
  rss0="$(rss_kb $rpids)"; g0="$(sample $rpids)"; s0="$(sample $spids)"; t0="$(date +%s.%N)"
  for ((k = 0; k < procs; k++)); do
    share=$(( total / procs + (k < total % procs ? 1 : 0) ))
    local name="$target-$test-$k"
    start "$name" "$BIN/loadgen" idle --url "$url" --connections "$share" --duration "$IDLE_WINDOW" \
      --hold-file "$release" --source-ips "127.0.0.$((20 + k))" --connect-rate 500 \
      --event-loops "$LOADGEN_LOOPS" --label "$name"
    lgs+=("$STARTED_PID"); names+=("$name")
  done
  local ok=1
  for ((k = 0; k < procs; k++)); do
    wait_for_lines "$OUT/${names[$k]}.log" "^connected " 1 400 "${lgs[$k]}" || ok=0
  done
  t1="$(date +%s.%N)"
  # shellcheck disable=SC2086
  rss1="$(rss_kb $rpids)"; g1="$(sample $rpids)"; s1="$(sample $spids)"
  sleep "$IDLE_WINDOW"   # the measured idle window itself, not a wait for readiness
  # shellcheck disable=SC2086
  s2="$(sample $spids)"
  touch "$release"
  for ((k = 0; k < procs; k++)); do wait_pid "${lgs[$k]}" 200 || true; done
  local opening idle
  opening="$(delta server_connect_ "$s0" "$s1" | paste -sd ' ') $(delta gateway_connect_ "$g0" "$g1" | grep heap_bytes || true)"
  idle="$(delta server_idle_ "$s1" "$s2" | paste -sd ' ')"
  python3 - "$OUT" "$target" "$test" "$total" "$rss0" "$rss1" "$t0" "$t1" "$IDLE_WINDOW" "$opening $idle" "${names[@]}" >> "$RESULTS" <<'PY'
import json, sys
out, target, test, total, rss0, rss1, t0, t1, window, fields = sys.argv[1:11]
names = sys.argv[11:]
rows = []
for name in names:
    try:
        rows.append(json.loads(open(f"{out}/{name}.log").read().strip().splitlines()[-1]))
    except Exception:
        pass
connected = sum(r["connected"] for r in rows)
ok = sum(r["ok"] for r in rows)
row = {
    "mode": "idle", "target": target, "test": test, "connections": int(total),
    "processes": len(names), "summaries": len(rows),
    "connected": connected, "connect_failed": int(total) - connected,
    "connect_seconds": round(float(t1) - float(t0), 3),
    "max_process_connect_seconds": max((r["connect_seconds"] for r in rows), default=0),
    "ok": ok, "failed": int(total) - ok, "ops": ok,
    "p50_us": max((r["p50_us"] for r in rows), default=0), "p99_us": max((r["p99_us"] for r in rows), default=0),
    "server_rss_before_kb": int(rss0), "server_rss_after_kb": int(rss1),
    "bytes_per_connection": round((int(rss1) - int(rss0)) * 1024 / connected) if connected else None,
    "idle_window_s": float(window),
    "client_cpu_s": round(sum(r["client_cpu_s"] for r in rows), 3),
}
for pair in fields.split():
    key, _, value = pair.partition("=")
    row[key] = json.loads(value)
if connected and "server_connect_allocations" in row:
    row["server_allocations_per_connection"] = round(row["server_connect_allocations"] / connected, 1)
if connected and "gateway_connect_heap_bytes" in row:
    row["heap_bytes_per_connection"] = round(row["gateway_connect_heap_bytes"] / connected)
print(json.dumps(row))
PY
  tail -n 1 "$RESULTS" | python3 -c 'import json,sys; r=json.load(sys.stdin); print("    %d/%d open in %.1f s, %d echoed after holding; gateway RSS +%d kB = %s bytes/connection (live heap %s bytes); %s allocations per connection opened; idle %.0f s: %.3f CPU s, %d context switches, %s allocations" % (r["connected"], r["connections"], r["connect_seconds"], r["ok"], r["server_rss_after_kb"]-r["server_rss_before_kb"], r["bytes_per_connection"], r.get("heap_bytes_per_connection", "-"), r.get("server_allocations_per_connection", "-"), r["idle_window_s"], r["server_idle_cpu_s"], r["server_idle_context_switches"], r.get("server_idle_allocations", "-")))'
  [ "$ok" = 1 ] || log "some load generators never reported their connections (see $target-$test-*.log)"
}

# ---------------------------------------------------------------- the servers
# Only the servers get the allocation counter.
COUNT_ENV=()
if [ "${BENCH_NO_MALLOC_COUNT:-0}" != 1 ]; then
  COUNTER="$OUT/bench-malloc-count.so"
  gcc -O2 -shared -fPIC -o "$COUNTER" "$ROOT/Deploy/bench-malloc-count.c"
  COUNT_ENV=(LD_PRELOAD="$COUNTER" MALLOC_COUNT_DIR="$MALLOC_DIR")
fi

MC_PID=""; GATEWAY_PIDS=(); WORKER_PIDS=(); WS_PORT=""

# start_cluster GATEWAYS LOOPS WORKERS : LOOPS "default" leaves --event-loops out (one per core).
start_cluster() {
  local gateways="$1" loops="$2" workers="$3" ports i mc_port loop_args=()
  [ "$loops" != default ] && loop_args=(--event-loops "$loops")
  read -r -a ports <<< "$(free_ports $((gateways + 2)))"
  mc_port="${ports[0]}"; WS_PORT="${ports[1]}"
  local memcached_user=()
  [ "$(id -u)" = 0 ] && memcached_user=(-u root)   # memcached refuses to run as root otherwise
  start "memcached-$mc_port" memcached -l 127.0.0.1 -p "$mc_port" -U 0 "${memcached_user[@]}"
  MC_PID=$STARTED_PID
  wait_port "$mc_port" 15
  GATEWAY_PIDS=(); WORKER_PIDS=()
  for ((i = 0; i < gateways; i++)); do
    start "gateway-$WS_PORT-$i" env DATACENTERED_SECRET_KEY="$SECRET" "${COUNT_ENV[@]}" "$DATACENTERED" gateway \
      --listen "127.0.0.1:$WS_PORT" --lan-ip 127.0.0.1 --lan-port "${ports[$((i + 2))]}" \
      --memcached "127.0.0.1:$mc_port" --reuse-port "${loop_args[@]}"
    GATEWAY_PIDS+=("$STARTED_PID")
  done
  for ((i = 0; i < gateways; i++)); do
    wait_for_lines "$OUT/gateway-$WS_PORT-$i.log" "gateway ready" 1 30 "${GATEWAY_PIDS[$i]}"
  done
  for ((i = 0; i < workers; i++)); do
    start "worker-$WS_PORT-$i" env DATACENTERED_SECRET_KEY="$SECRET" "${COUNT_ENV[@]}" "$DATACENTERED" worker \
      --memcached "127.0.0.1:$mc_port" --handler echo
    WORKER_PIDS+=("$STARTED_PID")
  done
  for ((i = 0; i < workers; i++)); do
    wait_for_lines "$OUT/worker-$WS_PORT-$i.log" "linked to gateway" "$gateways" 30 "${WORKER_PIDS[$i]}"
  done
  # A worker also links to each further event loop of a gateway ("... on its event loop N"), and a
  # client connected before that would stay on the first loop's link; binaries from before those
  # links log no such line, hence the short, tolerated wait.
  local lanes=$(( ${loops/default/$CORES} - 1 ))
  if [ "$lanes" -gt 0 ]; then
    for ((i = 0; i < workers; i++)); do
      wait_for_lines "$OUT/worker-$WS_PORT-$i.log" "on its event loop" $((gateways * lanes)) 3 "${WORKER_PIDS[$i]}" || true
    done
  fi
  log "cluster up: memcached :$mc_port, $gateways gateway(s) x $loops loop(s) on :$WS_PORT, $workers worker(s)"
}

stop_cluster() {
  stop "${WORKER_PIDS[@]}" "${GATEWAY_PIDS[@]}" "$MC_PID"
  WORKER_PIDS=(); GATEWAY_PIDS=(); MC_PID=""
}

# layout_row TARGET DESCRIPTION : names a target's layout in the results.
layout_row() {
  python3 -c 'import json,sys; print(json.dumps({"mode":"layout","target":sys.argv[1],"layout":sys.argv[2]}))' "$1" "$2" >> "$RESULTS"
}

# measure_ceiling TARGET BINARY WITH_IDLE : rtt, fanout (and idle) against an echo-ceiling binary.
measure_ceiling() {
  local target="$1" binary="$2" with_idle="$3" port pid
  read -r port <<< "$(free_ports 1)"
  start "$target-$port" env "${COUNT_ENV[@]}" "$binary" --listen "127.0.0.1:$port" --event-loops "$CEILING_LOOPS"
  pid=$STARTED_PID
  wait_for_lines "$OUT/$target-$port.log" "listening on" 1 15 "$pid"
  layout_row "$target" "$binary, $CEILING_LOOPS event loops"
  local url="ws://127.0.0.1:$port/" n
  for n in "${RTT_CLIENTS[@]}"; do
    run_measured "$target" "rtt-$n" "$pid" rtt --url "$url" --connections "$n"
  done
  run_measured "$target" "fanout-$FANOUT_CLIENTS" "$pid" fanout --url "$url" --connections "$FANOUT_CLIENTS"
  [ "$with_idle" = 1 ] && run_idle "$target" "idle-$IDLE_SMALL" "$IDLE_SMALL" "$url" "$pid" "$pid"
  stop "$pid"
}

# run_callgrind TARGET BINARY CONNECTIONS : rtt against an echo-ceiling binary with one event loop
# under callgrind, its instruction count zeroed and dumped at the edges of the measured window.
run_callgrind() {
  local target="$1" binary="$2" n="$3" test="callgrind-rtt-$3" port pid lg
  local name="$target-$test" stripped="$OUT/$target-echo-ceiling-symbols-only"
  log "$target: $test"
  # valgrind 3.19 cannot read the DWARF 5 debug information of Swift 6 binaries: keep symbols only.
  strip -g -o "$stripped" "$binary"
  read -r port <<< "$(free_ports 1)"
  start "$name-server" valgrind --tool=callgrind --callgrind-out-file="$OUT/$name.%p.callgrind" \
    "$stripped" --listen "127.0.0.1:$port" --event-loops 1
  pid=$STARTED_PID
  if ! wait_for_lines "$OUT/$name-server.log" "listening on" 1 120 "$pid"; then
    stop "$pid"; failed_row "$target" "$test" "no server under valgrind (see $name-server.log)"; return 0
  fi
  start "$name" "$BIN/loadgen" rtt --url "ws://127.0.0.1:$port/" --connections "$n" --duration "$DURATION" \
    --warmup "$WARMUP" --event-loops "$LOADGEN_LOOPS" --label "$name"
  lg=$STARTED_PID
  if ! wait_for_lines "$OUT/$name.log" "^measure start" 1 $((WARMUP + DURATION + 120)) "$lg"; then
    wait_pid "$lg" 30 || true; stop "$pid"; failed_row "$target" "$test" "no measured window (see $name.log)"; return 0
  fi
  callgrind_control -z "$pid" > /dev/null 2>&1
  if ! wait_for_lines "$OUT/$name.log" "^measure end" 1 $((DURATION + 60)) "$lg"; then
    wait_pid "$lg" 30 || true; stop "$pid"; failed_row "$target" "$test" "window did not end (see $name.log)"; return 0
  fi
  callgrind_control -d "$pid" > /dev/null 2>&1
  wait_pid "$lg" 120 || true
  stop "$pid"
  local json instructions
  json="$(tail -n 1 "$OUT/$name.log")"
  instructions="$(cat "$OUT/$name.$pid.callgrind."* 2>/dev/null | awk '/^summary:/ { total += $2 } END { print total + 0 }')"
  if [[ "$json" != "{"* ]] || [ "$instructions" = 0 ]; then
    failed_row "$target" "$test" "no JSON summary or no callgrind dump (see $name.log, $name-server.log)"; return 0
  fi
  record "$json" "target=$target" "test=$test" "user_instructions=$instructions"
  tail -n 1 "$RESULTS" | python3 -c 'import json,sys; r=json.load(sys.stdin); print("    %d round trips under callgrind: %d user-space instructions per round trip" % (r["ops"], r["user_instructions_per_op"]))'
}

# ---------------------------------------------------------------- build
if [ "${BENCH_NO_BUILD:-0}" != 1 ]; then
  log "building release"
  if [ "$ONLY" = ceiling ]; then
    swift build -c release --product loadgen
    swift build -c release --product echo-ceiling
  else
    swift build -c release
  fi
fi
log "results in $OUT (quick=$QUICK, duration=${DURATION}s, warm-up=${WARMUP}s, idle max=$IDLE_MAX)"

# ---------------------------------------------------------------- cluster runs
if [ "$ONLY" != ceiling ]; then
  for layout in $LAYOUTS; do
    case "$layout" in
      default) start_cluster 1 default 1; layout_row default "1 gateway x $CORES event loops (its default), 1 worker" ;;
      recommended) start_cluster "$GATEWAYS" "$GATEWAY_LOOPS" "$WORKERS"
        layout_row recommended "$GATEWAYS gateways x $GATEWAY_LOOPS event loop(s), $WORKERS workers" ;;
    esac
    URL="ws://127.0.0.1:$WS_PORT/"
    SERVER="${GATEWAY_PIDS[*]} ${WORKER_PIDS[*]}"
    if [ "$ONLY" != idle ]; then
      for n in "${RTT_CLIENTS[@]}"; do
        run_measured "$layout" "rtt-$n" "$SERVER" rtt --url "$URL" --connections "$n"
      done
      run_measured "$layout" "fanout-$FANOUT_CLIENTS" "$SERVER" fanout --url "$URL" --connections "$FANOUT_CLIENTS"
    fi
    run_idle "$layout" "idle-$IDLE_SMALL" "$IDLE_SMALL" "$URL" "${GATEWAY_PIDS[*]}" "$SERVER"
    stop_cluster
  done

  if [ "$IDLE_MAX" -gt "$IDLE_SMALL" ]; then
    big_gateways=$(( (IDLE_MAX + CONNECTIONS_PER_GATEWAY - 1) / CONNECTIONS_PER_GATEWAY ))
    [ "$big_gateways" -lt "$GATEWAYS" ] && big_gateways="$GATEWAYS"
    start_cluster "$big_gateways" 1 1
    layout_row spread "$big_gateways gateways x 1 event loop, 1 worker"
    run_idle spread "idle-$IDLE_MAX" "$IDLE_MAX" "ws://127.0.0.1:$WS_PORT/" "${GATEWAY_PIDS[*]}" "${GATEWAY_PIDS[*]} ${WORKER_PIDS[*]}"
    stop_cluster
  fi
fi

# ---------------------------------------------------------------- ceiling runs
if [ "$ONLY" = all ] || [ "$ONLY" = ceiling ]; then
  measure_ceiling ceiling "$BIN/echo-ceiling" 1
  [ -n "$CEILING_BEFORE" ] && measure_ceiling ceiling-before "$CEILING_BEFORE" 0
  if [ "${BENCH_CALLGRIND:-0}" = 1 ]; then
    for n in 1 100; do
      run_callgrind ceiling "$BIN/echo-ceiling" "$n"
      [ -n "$CEILING_BEFORE" ] && run_callgrind ceiling-before "$CEILING_BEFORE" "$n"
    done
  fi
fi

# ---------------------------------------------------------------- report
python3 - "$RESULTS" "$OUT/summary.json" <<'PY'
import json, sys
rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
layouts = {r["target"]: r["layout"] for r in rows if r.get("mode") == "layout"}
rows = [r for r in rows if r.get("mode") != "layout"]
def fmt(v, spec="{:.0f}"):
    if v is None or v == "": return "-"
    return spec.format(v) if isinstance(v, (int, float)) else str(v)
print()
for target, layout in layouts.items():
    print("%-14s %s" % (target, layout))
print()
line = "%-14s %-12s %7s %9s %8s %8s %8s %6s %9s %9s %9s %9s"
print(line % ("target", "test", "conns", "ops/s", "p50 us", "p90 us", "p99 us", "lost", "srv us/op", "ctxsw/op", "allocs/op", "cli CPU s"))
for r in rows:
    if "error" in r:
        print("%-14s %-12s  FAILED: %s" % (r["target"], r["test"], r["error"])); continue
    if "user_instructions_per_op" in r:
        print("%-14s %-12s %7s   %s round trips under callgrind, %s user-space instructions per round trip" % (
            r["target"], r["test"], r["connections"], r["ops"], fmt(r["user_instructions_per_op"])))
        continue
    if r.get("mode") == "idle":
        print("%-14s %-12s %7s   %s/%s echoed (p99 %s us), %s B/conn (heap %s), %s allocs/conn opened, open in %.1f s; idle %.0f s: %.3f CPU s, %s ctxsw, %s allocs" % (
            r["target"], r["test"], r["connections"], r["ok"], r["connections"], fmt(r.get("p99_us")),
            fmt(r.get("bytes_per_connection")), fmt(r.get("heap_bytes_per_connection")), fmt(r.get("server_allocations_per_connection"), "{:.1f}"), r["connect_seconds"],
            r["idle_window_s"], r["server_idle_cpu_s"], fmt(r.get("server_idle_context_switches")), fmt(r.get("server_idle_allocations"))))
        continue
    print(line % (
        r["target"], r["test"], r["connections"], fmt(r["ops_per_sec"]), r["p50_us"], r["p90_us"], r["p99_us"],
        r["lost"], fmt(r.get("server_cpu_us_per_op"), "{:.1f}"), fmt(r.get("server_switches_per_op"), "{:.2f}"),
        fmt(r.get("server_allocations_per_op"), "{:.1f}"), fmt(r.get("client_cpu_window_s"), "{:.2f}")))
by = {(r.get("target"), r.get("test")): r for r in rows if "error" not in r}
def ratio(a, b, digits=2):
    return round(a / b, digits) if a is not None and b else None
ratios = []
for (target, test), r in by.items():
    baseline = "ceiling-before" if target == "ceiling" else "ceiling"
    c = by.get((baseline, test))
    if target == "ceiling-before" or not c or r.get("mode") == "idle": continue
    ratios.append({"target": target, "baseline": baseline, "test": test,
                   "throughput_fraction": ratio(r["ops_per_sec"], c["ops_per_sec"], 3),
                   "p50_ratio": ratio(r["p50_us"], c["p50_us"]),
                   "p99_ratio": ratio(r["p99_us"], c["p99_us"]),
                   "server_cpu_per_op_ratio": ratio(r.get("server_cpu_us_per_op"), c.get("server_cpu_us_per_op")),
                   "instructions_per_op_ratio": ratio(r.get("user_instructions_per_op"), c.get("user_instructions_per_op"))})
if ratios:
    print()
    print("each target as a fraction of its baseline in this run (throughput: higher is better; latency, CPU: lower is better)")
    print("%-14s %-15s %-17s %11s %9s %9s %14s %14s" % ("target", "baseline", "test", "throughput", "p50 x", "p99 x", "srv CPU/op x", "instr/op x"))
    for q in ratios:
        print("%-14s %-15s %-17s %11s %9s %9s %14s %14s" % (q["target"], q["baseline"], q["test"], fmt(q["throughput_fraction"], "{:.1%}"),
              fmt(q["p50_ratio"], "{:.2f}"), fmt(q["p99_ratio"], "{:.2f}"), fmt(q["server_cpu_per_op_ratio"], "{:.2f}"),
              fmt(q["instructions_per_op_ratio"], "{:.2f}")))
summary = {"layouts": layouts, "results": rows, "ratios": ratios}
json.dump(summary, open(sys.argv[2], "w"), indent=1)
print()
print("BENCH_SUMMARY " + json.dumps(summary, separators=(",", ":")))
PY
