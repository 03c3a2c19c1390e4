#!/usr/bin/env bash
# Benchmarks the DataCentered cluster (memcached + gateways + echo workers) against echo-ceiling,
# a single-hop SwiftNIO WebSocket server with the same echo / broadcast semantics. Loopback only.
#
#   make bench                       # everything (about 5-10 minutes)
#   BENCH_QUICK=1 make bench         # small counts, a smoke check (about 1-2 minutes)
#   BENCH_ONLY=ceiling Deploy/bench.sh   # echo-ceiling alone (no memcached, no cluster)
#
# Tests: rtt with 1, 100, 1000 clients; fanout to 1000 subscribers; idle at 10,000 and
# BENCH_IDLE_MAX (default 100,000) connections; then rtt, fanout and idle 10k against echo-ceiling.
# For each: throughput, latency, server and client CPU seconds over the measured window, server
# CPU microseconds per operation, and for idle the gateways' resident memory per connection.
# Output: a table at the end, results in $BENCH_OUT (results.jsonl, summary.json, one log per
# process), and a last line `BENCH_SUMMARY {...}`.
#
# Environment (all optional):
#   BENCH_QUICK=1            small counts and short runs
#   BENCH_ONLY=all|cluster|ceiling
#   BENCH_IDLE_MAX=N         largest idle step (default 100000; <= 10000 skips the large step)
#   BENCH_DURATION=S         measured seconds per rtt/fanout test (default 10)
#   BENCH_WARMUP=S           warm-up seconds (default 2)
#   BENCH_GATEWAYS=N         gateway processes for rtt/fanout/idle-10k (default 2)
#   BENCH_GATEWAY_LOOPS=N    --event-loops of each gateway (default 1)
#   BENCH_WORKERS=N          echo workers (default 2)
#   BENCH_CEILING_LOOPS=N    echo-ceiling event loops (default: cores)
#   BENCH_LOADGEN_LOOPS=N    load generator event loops (default: cores)
#   BENCH_NO_BUILD=1         use the existing release build
#   BENCH_DATACENTERED=PATH  the cluster binary (default .build/release/datacentered)
#   BENCH_OUT=DIR            where logs and results go (default .build/bench/<timestamp>)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
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
  IDLE_HOLD=2
else
  DURATION="${BENCH_DURATION:-10}"
  WARMUP="${BENCH_WARMUP:-2}"
  RTT_CLIENTS=(1 100 1000)
  FANOUT_CLIENTS="${BENCH_FANOUT_CLIENTS:-1000}"
  IDLE_SMALL=10000
  IDLE_MAX="${BENCH_IDLE_MAX:-100000}"
  IDLE_PER_PROCESS=15000   # each process may hold at most 20,000 descriptors
  IDLE_HOLD=5
fi
GATEWAYS="${BENCH_GATEWAYS:-2}"
GATEWAY_LOOPS="${BENCH_GATEWAY_LOOPS:-1}"
WORKERS="${BENCH_WORKERS:-2}"
CEILING_LOOPS="${BENCH_CEILING_LOOPS:-$CORES}"
LOADGEN_LOOPS="${BENCH_LOADGEN_LOOPS:-$CORES}"
CONNECTIONS_PER_GATEWAY=14000  # leaves room below the 20,000-descriptor limit for uneven spreading
OUT="${BENCH_OUT:-$ROOT/.build/bench/$(date +%Y%m%d-%H%M%S)}"
RESULTS="$OUT/results.jsonl"
SECRET="bench-$(head -c 18 /dev/urandom | base64)"
CLK_TCK="$(getconf CLK_TCK)"
DATACENTERED="${BENCH_DATACENTERED:-$BIN/datacentered}"

case "$ONLY" in all|cluster|ceiling) ;; *) echo "bench: BENCH_ONLY must be all, cluster or ceiling" >&2; exit 2 ;; esac
mkdir -p "$OUT"
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

# free_ports N : N distinct free TCP ports on 127.0.0.1, below the ephemeral range.
free_ports() {
  python3 - "$1" <<'PY'
import random, socket, sys
n, found, held = int(sys.argv[1]), [], []
while len(found) < n:
    port = random.randint(20000, 32000)
    if port in found: continue
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port)); held.append(s); found.append(port)
    except OSError:
        s.close()
print(" ".join(map(str, found)))
PY
}

# cpu_ticks PID... : utime + stime of the processes, in clock ticks (0 for a missing one).
cpu_ticks() {
  local total=0 pid stat rest
  for pid in "$@"; do
    stat="$(cat "/proc/$pid/stat" 2>/dev/null || true)"
    [ -z "$stat" ] && continue
    rest="${stat##*) }"
    # shellcheck disable=SC2086
    set -- $rest
    total=$((total + ${12} + ${13}))
  done
  echo "$total"
}

# rss_kb PID... : summed VmRSS in kB.
rss_kb() {
  local total=0 pid kb
  for pid in "$@"; do
    kb="$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)"
    total=$((total + ${kb:-0}))
  done
  echo "$total"
}

ticks_to_seconds() { python3 -c "print(round($1 / $CLK_TCK, 3))"; }

# record JSON_LINE KEY=VALUE... : adds fields to a loadgen JSON summary and appends it to results.
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
if "server_cpu_s" in row and ops:
    row["server_cpu_us_per_op"] = round(row["server_cpu_s"] * 1e6 / ops, 3)
print(json.dumps(row))
PY
}

# failed_row TARGET TEST REASON : records a test that produced no summary.
failed_row() {
  python3 -c 'import json,sys; print(json.dumps({"target":sys.argv[1],"test":sys.argv[2],"error":sys.argv[3]}))' "$1" "$2" "$3" >> "$RESULTS"
}

# ---------------------------------------------------------------- one measured loadgen run
# run_measured TARGET TEST "SERVER_PIDS" LOADGEN_ARGS... : rtt or fanout, CPU sampled over the window.
run_measured() {
  local target="$1" test="$2" spids="$3"; shift 3
  local name="$target-$test" lg
  log "$target: $test"
  # shellcheck disable=SC2086
  start "$name" "$BIN/loadgen" "$@" --duration "$DURATION" --warmup "$WARMUP" \
    --event-loops "$LOADGEN_LOOPS" --label "$name"
  lg=$STARTED_PID
  local budget=$((WARMUP + DURATION + 240))
  if ! wait_for_lines "$OUT/$name.log" "^measure start" 1 "$budget" "$lg"; then
    wait_pid "$lg" 30 || true; failed_row "$target" "$test" "no measured window (see $name.log)"; return 0
  fi
  # shellcheck disable=SC2086
  local s0 s1
  s0="$(cpu_ticks $spids)"
  if ! wait_for_lines "$OUT/$name.log" "^measure end" 1 $((DURATION + 60)) "$lg"; then
    wait_pid "$lg" 30 || true; failed_row "$target" "$test" "window did not end (see $name.log)"; return 0
  fi
  # shellcheck disable=SC2086
  s1="$(cpu_ticks $spids)"
  wait_pid "$lg" 120 || true
  local json
  json="$(tail -n 1 "$OUT/$name.log")"
  if [[ "$json" != "{"* ]]; then failed_row "$target" "$test" "no JSON summary (see $name.log)"; return 0; fi
  record "$json" "target=$target" "test=$test" \
    "server_cpu_s=$(ticks_to_seconds $((s1 - s0)))"
  tail -n 1 "$RESULTS" | python3 -c 'import json,sys; r=json.load(sys.stdin); print("    %.0f ops/s  p50 %s us  p99 %s us  lost %s  server %.2f CPU s (%s us/op)" % (r["ops_per_sec"], r["p50_us"], r["p99_us"], r["lost"], r["server_cpu_s"], r.get("server_cpu_us_per_op", "-")))'
}

# ---------------------------------------------------------------- idle connections
# run_idle TARGET TEST N URL "SERVER_PIDS" : N connections spread over several loadgen processes,
# each with its own 127.0.0.x source address; server RSS sampled before and after opening them.
run_idle() {
  local target="$1" test="$2" total="$3" url="$4" spids="$5"
  local procs=$(( (total + IDLE_PER_PROCESS - 1) / IDLE_PER_PROCESS ))
  local release="$OUT/$target-$test.release" k share lgs=() names=()
  rm -f "$release"
  log "$target: $test ($total connections, $procs load generator processes)"
  # shellcheck disable=SC2086
  local rss0 s0 t0
  rss0="$(rss_kb $spids)"; s0="$(cpu_ticks $spids)"; t0="$(date +%s.%N)"
  for ((k = 0; k < procs; k++)); do
    share=$(( total / procs + (k < total % procs ? 1 : 0) ))
    local name="$target-$test-$k"
    start "$name" "$BIN/loadgen" idle --url "$url" --connections "$share" --duration "$IDLE_HOLD" \
      --hold-file "$release" --source-ips "127.0.0.$((20 + k))" --connect-rate 500 \
      --event-loops "$LOADGEN_LOOPS" --label "$name"
    lgs+=("$STARTED_PID"); names+=("$name")
  done
  local ok=1
  for ((k = 0; k < procs; k++)); do
    wait_for_lines "$OUT/${names[$k]}.log" "^connected " 1 400 "${lgs[$k]}" || ok=0
  done
  local t1 rss1 s1
  t1="$(date +%s.%N)"
  # shellcheck disable=SC2086
  rss1="$(rss_kb $spids)"; s1="$(cpu_ticks $spids)"
  touch "$release"
  for ((k = 0; k < procs; k++)); do wait_pid "${lgs[$k]}" 200 || true; done
  python3 - "$OUT" "$target" "$test" "$total" "$rss0" "$rss1" "$(ticks_to_seconds $((s1 - s0)))" "$t0" "$t1" "${names[@]}" >> "$RESULTS" <<'PY'
import json, sys
out, target, test, total, rss0, rss1, cpu, t0, t1 = sys.argv[1:10]
rows = []
for name in sys.argv[10:]:
    try:
        rows.append(json.loads(open(f"{out}/{name}.log").read().strip().splitlines()[-1]))
    except Exception:
        pass
connected = sum(r["connected"] for r in rows)
ok = sum(r["ok"] for r in rows)
row = {
    "mode": "idle", "target": target, "test": test, "connections": int(total),
    "processes": len(sys.argv) - 10, "summaries": len(rows),
    "connected": connected, "connect_failed": int(total) - connected,
    "connect_seconds": round(float(t1) - float(t0), 3),
    "max_process_connect_seconds": max((r["connect_seconds"] for r in rows), default=0),
    "ok": ok, "failed": int(total) - ok, "ops": ok,
    "p50_us": max((r["p50_us"] for r in rows), default=0), "p99_us": max((r["p99_us"] for r in rows), default=0),
    "server_rss_before_kb": int(rss0), "server_rss_after_kb": int(rss1),
    "bytes_per_connection": round((int(rss1) - int(rss0)) * 1024 / connected) if connected else None,
    "server_cpu_connect_s": float(cpu),
    "client_cpu_s": round(sum(r["client_cpu_s"] for r in rows), 3),
}
print(json.dumps(row))
PY
  tail -n 1 "$RESULTS" | python3 -c 'import json,sys; r=json.load(sys.stdin); print("    %d/%d open in %.1f s, %d echoed after holding; server RSS +%d kB = %s bytes/connection" % (r["connected"], r["connections"], r["connect_seconds"], r["ok"], r["server_rss_after_kb"]-r["server_rss_before_kb"], r["bytes_per_connection"]))'
  [ "$ok" = 1 ] || log "some load generators never reported their connections (see $target-$test-*.log)"
}

# ---------------------------------------------------------------- the cluster
MC_PID=""; GATEWAY_PIDS=(); WORKER_PIDS=(); WS_PORT=""

start_cluster() {
  local gateways="$1" loops="$2" workers="$3" ports i mc_port
  read -r -a ports <<< "$(free_ports $((gateways + 2)))"
  mc_port="${ports[0]}"; WS_PORT="${ports[1]}"
  local memcached_user=()
  [ "$(id -u)" = 0 ] && memcached_user=(-u root)   # memcached refuses to run as root otherwise
  start "memcached-$mc_port" memcached -l 127.0.0.1 -p "$mc_port" -U 0 "${memcached_user[@]}"
  MC_PID=$STARTED_PID
  wait_port "$mc_port" 15
  GATEWAY_PIDS=(); WORKER_PIDS=()
  for ((i = 0; i < gateways; i++)); do
    start "gateway-$WS_PORT-$i" env DATACENTERED_SECRET_KEY="$SECRET" "$DATACENTERED" gateway \
      --listen "127.0.0.1:$WS_PORT" --lan-ip 127.0.0.1 --lan-port "${ports[$((i + 2))]}" \
      --memcached "127.0.0.1:$mc_port" --reuse-port --event-loops "$loops"
    GATEWAY_PIDS+=("$STARTED_PID")
  done
  for ((i = 0; i < gateways; i++)); do
    wait_for_lines "$OUT/gateway-$WS_PORT-$i.log" "gateway ready" 1 30 "${GATEWAY_PIDS[$i]}"
  done
  for ((i = 0; i < workers; i++)); do
    start "worker-$WS_PORT-$i" env DATACENTERED_SECRET_KEY="$SECRET" "$DATACENTERED" worker \
      --memcached "127.0.0.1:$mc_port" --handler echo
    WORKER_PIDS+=("$STARTED_PID")
  done
  for ((i = 0; i < workers; i++)); do
    wait_for_lines "$OUT/worker-$WS_PORT-$i.log" "linked to gateway" "$gateways" 30 "${WORKER_PIDS[$i]}"
  done
  log "cluster up: memcached :$mc_port, $gateways gateway(s) x $loops loop(s) on :$WS_PORT, $workers worker(s)"
}

stop_cluster() {
  stop "${WORKER_PIDS[@]}" "${GATEWAY_PIDS[@]}" "$MC_PID"
  WORKER_PIDS=(); GATEWAY_PIDS=(); MC_PID=""
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
  start_cluster "$GATEWAYS" "$GATEWAY_LOOPS" "$WORKERS"
  URL="ws://127.0.0.1:$WS_PORT/"
  SERVER="${GATEWAY_PIDS[*]} ${WORKER_PIDS[*]}"
  for n in "${RTT_CLIENTS[@]}"; do
    run_measured cluster "rtt-$n" "$SERVER" rtt --url "$URL" --connections "$n"
  done
  run_measured cluster "fanout-$FANOUT_CLIENTS" "$SERVER" fanout --url "$URL" --connections "$FANOUT_CLIENTS"
  run_idle cluster "idle-$IDLE_SMALL" "$IDLE_SMALL" "$URL" "${GATEWAY_PIDS[*]}"
  stop_cluster

  if [ "$IDLE_MAX" -gt "$IDLE_SMALL" ]; then
    big_gateways=$(( (IDLE_MAX + CONNECTIONS_PER_GATEWAY - 1) / CONNECTIONS_PER_GATEWAY ))
    [ "$big_gateways" -lt "$GATEWAYS" ] && big_gateways="$GATEWAYS"
    start_cluster "$big_gateways" 1 1
    run_idle cluster "idle-$IDLE_MAX" "$IDLE_MAX" "ws://127.0.0.1:$WS_PORT/" "${GATEWAY_PIDS[*]}"
    stop_cluster
  fi
fi

# ---------------------------------------------------------------- ceiling runs
if [ "$ONLY" != cluster ]; then
  read -r CEILING_PORT <<< "$(free_ports 1)"
  start "echo-ceiling-$CEILING_PORT" "$BIN/echo-ceiling" --listen "127.0.0.1:$CEILING_PORT" --event-loops "$CEILING_LOOPS"
  CEILING_PID=$STARTED_PID
  wait_for_lines "$OUT/echo-ceiling-$CEILING_PORT.log" "listening on" 1 15 "$CEILING_PID"
  URL="ws://127.0.0.1:$CEILING_PORT/"
  for n in "${RTT_CLIENTS[@]}"; do
    run_measured ceiling "rtt-$n" "$CEILING_PID" rtt --url "$URL" --connections "$n"
  done
  run_measured ceiling "fanout-$FANOUT_CLIENTS" "$CEILING_PID" fanout --url "$URL" --connections "$FANOUT_CLIENTS"
  run_idle ceiling "idle-$IDLE_SMALL" "$IDLE_SMALL" "$URL" "$CEILING_PID"
  stop "$CEILING_PID"
fi

# ---------------------------------------------------------------- report
python3 - "$RESULTS" "$OUT/summary.json" <<'PY'
import json, sys
rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
def fmt(v, spec="{:.0f}"):
    if v is None or v == "": return "-"
    return spec.format(v) if isinstance(v, (int, float)) else str(v)
print()
print("%-8s %-12s %7s %11s %8s %8s %8s %9s %7s %9s %9s %9s" % (
    "target", "test", "conns", "ops/s", "p50 us", "p90 us", "p99 us", "max us", "lost", "srv CPU s", "srv us/op", "cli CPU s"))
for r in rows:
    if "error" in r:
        print("%-8s %-12s  FAILED: %s" % (r["target"], r["test"], r["error"])); continue
    if r.get("mode") == "idle":
        print("%-8s %-12s %7s %11s %8s %8s %8s %9s %7s %9s %9s %9s   %s/%s echoed, %s B/conn, open in %.1f s" % (
            r["target"], r["test"], r["connections"], "-", fmt(r.get("p50_us")), "-", fmt(r.get("p99_us")), "-",
            "-", fmt(r.get("server_cpu_connect_s"), "{:.2f}"), "-", fmt(r.get("client_cpu_s"), "{:.2f}"),
            r["ok"], r["connections"], fmt(r.get("bytes_per_connection")), r["connect_seconds"]))
        continue
    print("%-8s %-12s %7s %11s %8s %8s %8s %9s %7s %9s %9s %9s" % (
        r["target"], r["test"], r["connections"], fmt(r["ops_per_sec"]), r["p50_us"], r["p90_us"], r["p99_us"],
        r["max_us"], r["lost"], fmt(r.get("server_cpu_s"), "{:.2f}"), fmt(r.get("server_cpu_us_per_op"), "{:.1f}"),
        fmt(r.get("client_cpu_window_s"), "{:.2f}")))
ratios = []
by = {(r.get("target"), r.get("test")): r for r in rows if "error" not in r}
for (target, test), r in by.items():
    c = by.get(("ceiling", test))
    if target != "cluster" or not c or r.get("mode") == "idle": continue
    ratio = {"test": test,
             "throughput_fraction": round(r["ops_per_sec"] / c["ops_per_sec"], 3) if c["ops_per_sec"] else None,
             "p50_ratio": round(r["p50_us"] / c["p50_us"], 2) if c["p50_us"] else None,
             "p99_ratio": round(r["p99_us"] / c["p99_us"], 2) if c["p99_us"] else None,
             "server_cpu_per_op_ratio": round(r["server_cpu_us_per_op"] / c["server_cpu_us_per_op"], 2)
                 if r.get("server_cpu_us_per_op") and c.get("server_cpu_us_per_op") else None}
    ratios.append(ratio)
if ratios:
    print()
    print("cluster as a fraction of the ceiling (throughput: higher is better; latency, CPU: lower is better)")
    print("%-12s %11s %9s %9s %14s" % ("test", "throughput", "p50 x", "p99 x", "srv CPU/op x"))
    for q in ratios:
        print("%-12s %11s %9s %9s %14s" % (q["test"], fmt(q["throughput_fraction"], "{:.1%}"),
              fmt(q["p50_ratio"], "{:.2f}"), fmt(q["p99_ratio"], "{:.2f}"), fmt(q["server_cpu_per_op_ratio"], "{:.2f}")))
summary = {"results": rows, "cluster_vs_ceiling": ratios}
json.dump(summary, open(sys.argv[2], "w"), indent=1)
print()
print("BENCH_SUMMARY " + json.dumps(summary, separators=(",", ":")))
PY
