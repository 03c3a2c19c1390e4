# Shell helpers shared by Deploy/bench.sh and Deploy/bench-fleet.sh (sourced, not run).

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

# rss_kb PID... : the processes' resident memory summed, in KiB (a process that is gone counts 0).
rss_kb() {
  local total=0 pid kb
  for pid in "$@"; do
    kb="$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)"
    total=$((total + ${kb:-0}))
  done
  echo "$total"
}
