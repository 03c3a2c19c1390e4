#!/usr/bin/env bash
# The fleet benchmark (issue 10, "Scale"): simulated host agents speaking the real agent protocol
# (loadgen fleet-agents, several processes) against memcached + gateways sharing the public port
# (--reuse-port, accept rate capped) + datacenter workers, measured by one operator connection
# (loadgen fleet-operator). Loopback only; every phase is bounded in time.
#
#   make bench-fleet                       # 5,000 agents (release build)
#   FLEET_AGENTS=500 bash Deploy/bench-fleet.sh
#
# Knobs (environment):
#   FLEET_AGENTS=N          simulated agents (default 5000)
#   FLEET_GENERATORS=N      load generator processes sharing them (default 4)
#   FLEET_GATEWAYS=N        gateway processes on one public port (default 2)
#   FLEET_WORKERS=N         datacenter workers (default 2)
#   FLEET_JOBS=N            hosts the job and the cancel fan out to (default 1000, at most FLEET_AGENTS)
#   FLEET_FANOUT=N          service connections the fan-outs are shared over (default 4: a worker
#                           handles one connection's requests in order, so N connections reach N workers)
#   FLEET_PER_JOB=1         first run the job and the cancel once more with one request per host (jobs.run,
#                           jobs.cancel) instead of jobs.runMany / jobs.cancelMany, as a baseline in the same run
#   FLEET_LATENCY=S         seconds of the steady-state window (default 30)
#   FLEET_ACCEPT_RATE=N     accepts per second per gateway (--max-accepts-per-second, default 200)
#   FLEET_RAMP=S            seconds over which the agents first connect (default 20)
#   FLEET_RESTART=0         skip the gateway restart phase
#   FLEET_WORKER_FLAGS=".." more flags for the workers (e.g. "--sweep-interval 1")
#   FLEET_PERF=1            profile the servers during the fan-outs (perf record, cpu-clock with call
#                           graphs) into $OUT/perf-fanout.data
#   FLEET_OUT=DIR           where logs and results go (default .build/bench-fleet/DATE)
#
# Figures (printed, and as JSON in $OUT/fleet.json). The idle cluster's RSS and CPU, measured in the
# same run before any agent connects, are the baseline: RSS per agent and CPU per report count only
# what the agents added. Targets from the issue are printed beside each figure.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
source "$ROOT/Deploy/bench-lib.sh"
BIN="${FLEET_BIN:-$ROOT/.build/release}"
AGENTS="${FLEET_AGENTS:-5000}"
GENERATORS="${FLEET_GENERATORS:-4}"
GATEWAYS="${FLEET_GATEWAYS:-2}"
WORKERS="${FLEET_WORKERS:-2}"
JOBS="${FLEET_JOBS:-1000}"
FANOUT="${FLEET_FANOUT:-4}"
LATENCY="${FLEET_LATENCY:-30}"
ACCEPT_RATE="${FLEET_ACCEPT_RATE:-200}"
RAMP="${FLEET_RAMP:-20}"
RESTART="${FLEET_RESTART:-1}"
PER_JOB="${FLEET_PER_JOB:-0}"
PERF="${FLEET_PERF:-0}"
read -r -a WORKER_FLAGS <<< "${FLEET_WORKER_FLAGS:-}"
OUT="${FLEET_OUT:-$ROOT/.build/bench-fleet/$(date +%Y%m%d-%H%M%S)}"
CLK_TCK="$(getconf CLK_TCK)"
[ "$JOBS" -le "$AGENTS" ] || JOBS="$AGENTS"

mkdir -p "$OUT"
chmod 700 "$OUT"   # the token lists live here
SECRET="fleet-$(head -c 18 /dev/urandom | base64)"
log() { printf '[fleet %s] %s\n' "$(date +%H:%M:%S)" "$*"; }

PIDS=()
cleanup() {
  local rc=$? pid
  trap - EXIT INT TERM
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  local deadline=$((SECONDS + 10))
  for pid in "${PIDS[@]}"; do
    while kill -0 "$pid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  wait 2>/dev/null || true
  rm -f "$OUT/agents.tsv" "$OUT/operator.token" "$OUT/service.token" "$OUT/tokens.json"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start() {  # start NAME COMMAND...: runs it in the background, output to $OUT/NAME.log, pid in STARTED_PID
  local name="$1"; shift
  "$@" >> "$OUT/$name.log" 2>&1 &
  STARTED_PID=$!
  PIDS+=("$STARTED_PID")
}

wait_for() {  # wait_for FILE PATTERN TIMEOUT: until the pattern appears in the file
  local deadline=$((SECONDS + $3))
  until grep -q -- "$2" "$1" 2>/dev/null; do
    [ "$SECONDS" -ge "$deadline" ] && { log "timed out waiting for '$2' in $1"; return 1; }
    sleep 0.1
  done
}

cpu_ticks() {  # user + system ticks of the given pids
  local total=0 pid stat rest
  for pid in "$@"; do
    stat="$(cat "/proc/$pid/stat" 2>/dev/null || true)"
    [ -z "$stat" ] && continue
    rest="${stat##*) }"
    set -- $rest
    total=$((total + ${12} + ${13}))
  done
  echo "$total"
}

memcached_ops() {  # every command memcached has counted (gets count per key)
  exec 3<>"/dev/tcp/127.0.0.1/$MC_PORT"
  printf 'stats\r\nquit\r\n' >&3
  timeout 5 cat <&3 | tr -d '\r' | awk '
    $2 ~ /^(cmd_get|cmd_set|cmd_touch|cmd_flush|delete_hits|delete_misses|incr_hits|incr_misses|decr_hits|decr_misses)$/ { n += $3 }
    END { print n + 0 }'
  exec 3<&-
}

generator_sum() {  # generator_sum FIELD: the field summed over the generators' latest status lines
  local field="$1" k total=0 line value
  for ((k = 0; k < GENERATORS; k++)); do
    line="$(grep '^fleet-agents status ' "$OUT/agents-$k.log" 2>/dev/null | tail -n 1 || true)"
    value="$(sed -n "s/.*\"$field\":\([0-9]*\).*/\1/p" <<< "$line")"
    total=$((total + ${value:-0}))
  done
  echo "$total"
}

last_json() {  # last_json FILE: its last line when that is a JSON object, else {}
  local line
  line="$(tail -n 1 "$1" 2>/dev/null || true)"
  [[ "$line" == "{"* ]] && echo "$line" || echo '{}'
}

wait_online() {  # wait_online COUNT TIMEOUT: until the generators count COUNT authenticated agents
  local deadline=$((SECONDS + $2))
  until [ "$(generator_sum online)" -ge "$1" ]; do
    [ "$SECONDS" -ge "$deadline" ] && { log "only $(generator_sum online)/$1 agents online after $2 s"; return 1; }
    sleep 0.5
  done
}

for tool in datacentered loadgen; do
  [ -x "$BIN/$tool" ] || { echo "bench-fleet: $BIN/$tool missing; run 'swift build -c release' first" >&2; exit 1; }
done
command -v memcached > /dev/null || { echo "bench-fleet: memcached missing (Deploy/install-deps.sh)" >&2; exit 1; }

read -r MC_PORT WS_PORT LAN_BASE <<< "$(free_ports 3)"
log "fleet of $AGENTS agents in $GENERATORS generators; $GATEWAYS gateways (accept cap $ACCEPT_RATE/s each), $WORKERS workers; fan-out over $FANOUT connections; out $OUT"
log "load before: $(uptime)"

# Tokens: one bulk issue for every host (one write of the token file), and the measuring operator.
umask 077
seq -f "fleet-%05g" 1 "$AGENTS" > "$OUT/names.txt"
issued_at=$(date +%s.%N)
"$BIN/datacentered" token issue --role agent --names-from "$OUT/names.txt" --file "$OUT/tokens.json" > "$OUT/agents.tsv"
"$BIN/datacentered" token issue --role operator --name fleet-operator --file "$OUT/tokens.json" > "$OUT/operator.token"
"$BIN/datacentered" token issue --role service --name fleet-fanout --file "$OUT/tokens.json" > "$OUT/service.token"
TOKEN_SECONDS=$(python3 -c "import sys; print(round($(date +%s.%N) - $issued_at, 2))")
log "issued $AGENTS host tokens in $TOKEN_SECONDS s"
umask 022

memcached_user=()
[ "$(id -u)" = 0 ] && memcached_user=(-u root)
start memcached memcached -l 127.0.0.1 -p "$MC_PORT" -U 0 -m 512 -c 4096 "${memcached_user[@]}"
MC_PID=$STARTED_PID
deadline=$((SECONDS + 10))
until (exec 3<>"/dev/tcp/127.0.0.1/$MC_PORT") 2>/dev/null; do [ "$SECONDS" -lt "$deadline" ] || exit 1; sleep 0.05; done

GATEWAY_PIDS=()
start_gateway() {  # start_gateway INDEX
  local i="$1"
  start "gateway-$i" env DATACENTERED_SECRET_KEY="$SECRET" "$BIN/datacentered" gateway \
    --listen "127.0.0.1:$WS_PORT" --reuse-port --lan-ip 127.0.0.1 --lan-port $((LAN_BASE + i)) \
    --memcached "127.0.0.1:$MC_PORT" --event-loops 1 --max-accepts-per-second "$ACCEPT_RATE" --log-level notice
  GATEWAY_PIDS[$i]=$STARTED_PID
}
for ((i = 0; i < GATEWAYS; i++)); do start_gateway "$i"; done
for ((i = 0; i < GATEWAYS; i++)); do wait_for "$OUT/gateway-$i.log" "gateway ready" 30; done
WORKER_PIDS=()
for ((i = 0; i < WORKERS; i++)); do
  start "worker-$i" env DATACENTERED_SECRET_KEY="$SECRET" "$BIN/datacentered" worker --name "fleet$i" \
    --handler datacenter --tokens "$OUT/tokens.json" --memcached "127.0.0.1:$MC_PORT" --log-level notice ${WORKER_FLAGS[@]+"${WORKER_FLAGS[@]}"}
  WORKER_PIDS+=("$STARTED_PID")
done
for ((i = 0; i < WORKERS; i++)); do
  for ((g = 0; g < GATEWAYS; g++)); do wait_for "$OUT/worker-$i.log" "linked to gateway 127.0.0.1:$((LAN_BASE + g))" 30; done
done
server_pids() { echo "${GATEWAY_PIDS[*]} ${WORKER_PIDS[*]} $MC_PID"; }

# Baseline: the idle cluster, same run.
BASE_WINDOW=5
rss_idle=$(rss_kb $(server_pids))
c0=$(cpu_ticks $(server_pids)); sleep "$BASE_WINDOW"; c1=$(cpu_ticks $(server_pids))
idle_ticks_per_s=$(python3 -c "print(($c1 - $c0) / $BASE_WINDOW)")
log "idle cluster: RSS $((rss_idle / 1024)) MiB, $idle_ticks_per_s CPU ticks/s"

# The fleet.
URL="ws://127.0.0.1:$WS_PORT/"
STOP="$OUT/stop"
rm -f "$STOP"
per=$(( (AGENTS + GENERATORS - 1) / GENERATORS ))
connect_start=$SECONDS
GENERATOR_PIDS=()
for ((k = 0; k < GENERATORS; k++)); do
  first=$((k * per)); count=$(( AGENTS - first < per ? AGENTS - first : per ))
  start "agents-$k" "$BIN/loadgen" fleet-agents --url "$URL" --tokens "$OUT/agents.tsv" --first "$first" --agents "$count" \
    --ramp "$RAMP" --stop-file "$STOP" --max-hold 1500
  GENERATOR_PIDS+=("$STARTED_PID")
done
wait_online "$AGENTS" $((RAMP + 180))
CONNECT_SECONDS=$((SECONDS - connect_start))
log "all $AGENTS agents online after $CONNECT_SECONDS s; settling one report period"
sleep 12

# Steady state: reports, CPU, memcached, RSS, and what the operator sees.
r0=$(generator_sum reports); c0=$(cpu_ticks $(server_pids)); m0=$(memcached_ops); t0=$(date +%s.%N)
g0=$(cpu_ticks "${GATEWAY_PIDS[@]}"); w0=$(cpu_ticks "${WORKER_PIDS[@]}"); mc0=$(cpu_ticks "$MC_PID"); l0=$(cpu_ticks "${GENERATOR_PIDS[@]}")
"$BIN/loadgen" fleet-operator --url "$URL" --token-file "$OUT/operator.token" --latency-duration "$LATENCY" \
  > "$OUT/operator-latency.log" 2>&1
sleep 1.1   # let the generators' status lines catch up with the window's end
r1=$(generator_sum reports); c1=$(cpu_ticks $(server_pids)); m1=$(memcached_ops); t1=$(date +%s.%N)
g1=$(cpu_ticks "${GATEWAY_PIDS[@]}"); w1=$(cpu_ticks "${WORKER_PIDS[@]}"); mc1=$(cpu_ticks "$MC_PID"); l1=$(cpu_ticks "${GENERATOR_PIDS[@]}")
rss_loaded=$(rss_kb $(server_pids))
grep -v '^{' "$OUT/operator-latency.log" || true
STEADY="$(last_json "$OUT/operator-latency.log")"

# One job on JOBS hosts, then a cancel of another.
JOB_RESULT='{}'
PER_JOB_RESULT='{}'
if [ "$JOBS" -gt 0 ]; then
  # Every (AGENTS / JOBS)-th host, so that the job reaches every generator process alike.
  awk -v stride=$((AGENTS / JOBS)) '(NR - 1) % stride == 0' "$OUT/names.txt" | head -n "$JOBS" > "$OUT/job-hosts.txt"
  fan_out() {
    "$BIN/loadgen" fleet-operator --url "$URL" --token-file "$OUT/operator.token" --hosts-file "$OUT/job-hosts.txt" \
      --jobs "$JOBS" --job-wait 60 --fanout-connections "$FANOUT" --service-token-file "$OUT/service.token" "$@"
  }
  if [ "$PER_JOB" = 1 ]; then
    fan_out --per-job > "$OUT/operator-jobs-per-job.log" 2>&1 || true
    log "per-job baseline (one jobs.run / jobs.cancel per host):"
    grep -v '^{' "$OUT/operator-jobs-per-job.log" || true
    PER_JOB_RESULT="$(last_json "$OUT/operator-jobs-per-job.log")"
  fi
  # What the fan-outs (the job, then the cancel) cost each role: the steady state's rate of each
  # (the reports go on meanwhile) is taken off.
  jt0=$(date +%s.%N); jg0=$(cpu_ticks "${GATEWAY_PIDS[@]}"); jw0=$(cpu_ticks "${WORKER_PIDS[@]}")
  jm0=$(cpu_ticks "$MC_PID"); jl0=$(cpu_ticks "${GENERATOR_PIDS[@]}"); jo0=$(memcached_ops)
  if [ "$PERF" = 1 ]; then
    perf record -e cpu-clock -F 997 -g -o "$OUT/perf-fanout.data" -p "$(server_pids | tr ' ' ',')" > "$OUT/perf.log" 2>&1 &
    PERF_PID=$!
  fi
  fan_out > "$OUT/operator-jobs.log" 2>&1 || true
  if [ "$PERF" = 1 ]; then kill -INT "$PERF_PID"; wait "$PERF_PID" || true; log "profile of the fan-outs: $OUT/perf-fanout.data (perf report -i)"; fi
  jt1=$(date +%s.%N); jg1=$(cpu_ticks "${GATEWAY_PIDS[@]}"); jw1=$(cpu_ticks "${WORKER_PIDS[@]}")
  jm1=$(cpu_ticks "$MC_PID"); jl1=$(cpu_ticks "${GENERATOR_PIDS[@]}"); jo1=$(memcached_ops)
  grep -v '^{' "$OUT/operator-jobs.log" || true
  JOB_RESULT="$(python3 -c "
import json, sys
row = json.loads(sys.argv[1])
fanout, steady, jobs = $jt1 - $jt0, $t1 - $t0, 2 * $JOBS
def per_job(fanout_ticks, steady_ticks):
    return round((fanout_ticks - steady_ticks * fanout / steady) / $CLK_TCK * 1e6 / jobs, 1)
row.update({'fanout_gateway_cpu_us_per_job': per_job($jg1 - $jg0, $g1 - $g0), 'fanout_worker_cpu_us_per_job': per_job($jw1 - $jw0, $w1 - $w0),
            'fanout_memcached_cpu_us_per_job': per_job($jm1 - $jm0, $mc1 - $mc0), 'fanout_generator_cpu_us_per_job': per_job($jl1 - $jl0, $l1 - $l0),
            'fanout_memcached_ops_per_job': round((($jo1 - $jo0) - ($m1 - $m0) * fanout / steady) / jobs, 2)})
print(json.dumps(row))" "$(last_json "$OUT/operator-jobs.log")")"
fi

# Every gateway restarted: how long until every agent is back.
RESTART_RESULT='{}'
if [ "$RESTART" = 1 ]; then
  auth0=$(generator_sum authentications)
  log "restarting all $GATEWAYS gateways"
  restart_at=$(date +%s.%N)
  for pid in "${GATEWAY_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${GATEWAY_PIDS[@]}"; do
    deadline=$((SECONDS + 15))
    while kill -0 "$pid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.05; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  for ((i = 0; i < GATEWAYS; i++)); do start_gateway "$i"; done
  "$BIN/loadgen" fleet-operator --url "$URL" --token-file "$OUT/operator.token" --expect-online "$AGENTS" \
    --online-timeout 180 > "$OUT/operator-restart.log" 2>&1 || true
  sleep 1.1
  auth1=$(generator_sum authentications)
  RESTART_RESULT="$(python3 -c "
import json, sys
row = json.loads(sys.argv[1])
print(json.dumps({'restart_agents_online': row.get('agents_online', 0),
                  'restart_back_seconds': round(row['online_at_unix'] - $restart_at, 2) if 'online_at_unix' in row else None,
                  'restart_reauthentications': $auth1 - $auth0}))" "$(last_json "$OUT/operator-restart.log")")"
fi

touch "$STOP"
for pid in "${GENERATOR_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done

python3 - "$OUT" <<PY | tee "$OUT/fleet.json"
import json, sys
out = sys.argv[1]
steady = json.loads('''$STEADY''')
jobs = json.loads('''$JOB_RESULT''')
per_job = json.loads('''$PER_JOB_RESULT''')
restart = json.loads('''$RESTART_RESULT''')
window = $t1 - $t0
reports = $r1 - $r0
server_cpu_s = (($c1 - $c0) - $idle_ticks_per_s * window) / $CLK_TCK
row = {
    "agents": $AGENTS, "generators": $GENERATORS, "gateways": $GATEWAYS, "workers": $WORKERS,
    "accept_rate_per_gateway": $ACCEPT_RATE, "token_issue_seconds": $TOKEN_SECONDS, "connect_seconds": $CONNECT_SECONDS,
    "window_seconds": round(window, 2), "reports_sent": reports,
    "reports_per_sec": round(reports / window, 1),
    "operator_updates_per_sec": steady.get("operator_updates_per_sec"),
    "report_to_operator_p50_ms": steady.get("latency_p50_ms"), "report_to_operator_p99_ms": steady.get("latency_p99_ms"),
    "report_to_central_p50_ms": steady.get("to_central_p50_ms"), "report_to_central_p99_ms": steady.get("to_central_p99_ms"),
    "server_cpu_us_per_report": round(server_cpu_s * 1e6 / reports, 1) if reports else None,
    "gateway_cpu_us_per_report": round(($g1 - $g0) / $CLK_TCK * 1e6 / reports, 1) if reports else None,
    "worker_cpu_us_per_report": round(($w1 - $w0) / $CLK_TCK * 1e6 / reports, 1) if reports else None,
    "memcached_ops_per_report": round(($m1 - $m0) / reports, 2) if reports else None,
    "server_rss_idle_mib": round($rss_idle / 1024, 1), "server_rss_loaded_mib": round($rss_loaded / 1024, 1),
    "server_rss_kib_per_agent": round(($rss_loaded - $rss_idle) / $AGENTS, 1),
}
row.update({k: v for k, v in jobs.items() if k != "mode"})
row.update({"per_job_" + k: v for k, v in per_job.items() if k.startswith(("job_", "cancel"))})
row.update(restart)
print(json.dumps(row))
PY
python3 - "$OUT/fleet.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
def show(label, value, target=""):
    print(f"  {label:<44} {value}{'   (target ' + target + ')' if target else ''}")
print(f"fleet benchmark: {r['agents']} agents, {r['gateways']} gateways, {r['workers']} workers")
show("reports handled per second", r["reports_per_sec"])
show("server CPU per report (idle baseline off), us", f"{r['server_cpu_us_per_report']} (gateways {r['gateway_cpu_us_per_report']}, workers {r['worker_cpu_us_per_report']})")
show("memcached operations per report", r["memcached_ops_per_report"])
show("server RSS per agent (idle baseline off), KiB", r["server_rss_kib_per_agent"], "<= 64")
show("report -> operator p50 / p99, ms", f"{r['report_to_operator_p50_ms']} / {r['report_to_operator_p99_ms']}", "p99 <= 1000")
show("  of which until the central side handled it", f"{r['report_to_central_p50_ms']} / {r['report_to_central_p99_ms']}")
if "job_hosts" in r:
    show(f"job on {r['job_hosts']}: first chunk p99, ms", f"{r['job_first_chunk_p99_ms']} ({r['job_first_chunk_within_target']*100:.1f}% within 0.5 s)", "99% within 500")
    show(f"job on {r['job_hosts']}: every exit status, ms", f"{r['job_all_results_ms']} ({r['job_results']} results, {r['job_exit_0']} exit 0)", "<= 2000")
    show(f"cancel of {r['cancel_jobs']}: all cancelled, ms", f"{r['cancel_all_ms']} ({r['cancelled']} cancelled)", "<= 2000")
    show("fan-outs' CPU per job (run + cancel), us", f"gateways {r['fanout_gateway_cpu_us_per_job']}, workers {r['fanout_worker_cpu_us_per_job']}, memcached {r['fanout_memcached_cpu_us_per_job']}, generators {r['fanout_generator_cpu_us_per_job']}")
    show("fan-outs' memcached operations per job", r["fanout_memcached_ops_per_job"])
if "per_job_job_hosts" in r:
    show("  baseline, one request per job: first chunk p99", f"{r['per_job_job_first_chunk_p99_ms']} ({r['per_job_job_first_chunk_within_target']*100:.1f}% within 0.5 s)")
    show("  baseline: every exit status, ms", f"{r['per_job_job_all_results_ms']} ({r['per_job_job_results']} results)")
    show("  baseline: all cancelled, ms", f"{r['per_job_cancel_all_ms']} ({r['per_job_cancelled']} cancelled)")
if "restart_back_seconds" in r:
    show("all gateways restarted: all agents back, s", f"{r['restart_back_seconds']} ({r['restart_agents_online']} online)", "<= 60")
PY
log "load after: $(uptime)"
