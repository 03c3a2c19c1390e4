#!/usr/bin/env bash
# RFC 6455 conformance: runs Autobahn|Testsuite's fuzzing client (cases 1-7, 9 and 10) against the
# echo demo (memcached + one gateway + one echo worker, debug build, loopback only) and prints how
# many cases ended OK, NON-STRICT, INFORMATIONAL, UNIMPLEMENTED or FAILED. Exits 1 if any FAILED.
#
#   make conformance
#
# Autobahn|Testsuite needs Python 2.7. The first run sets it up under .build-conformance/: the
# Python 2.7 found on this machine (CONFORMANCE_PYTHON2, python2.7 on the PATH, pyenv's), or else
# Debian bullseye's python2.7 packages (bookworm has none) unpacked there; then autobahntestsuite
# and its dependencies from PyPI into a private site folder. Nothing is installed system-wide.
#
# Environment (all optional):
#   CONFORMANCE_PYTHON2=PATH   the Python 2.7 interpreter to use
#   CONFORMANCE_CASES=JSON     the cases, default ["1.*","2.*","3.*","4.*","5.*","6.*","7.*","9.*","10.*"]
#   CONFORMANCE_NO_BUILD=1     use the existing debug build
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
WORK="$ROOT/.build-conformance"
OUT="$WORK/run-$(date +%Y%m%d-%H%M%S)"
CASES="${CONFORMANCE_CASES:-[\"1.*\",\"2.*\",\"3.*\",\"4.*\",\"5.*\",\"6.*\",\"7.*\",\"9.*\",\"10.*\"]}"
# Case 9 sends messages of up to 16 MiB; each travels to the worker and back in one link frame.
MAX_MESSAGE=$((16 << 20))
MAX_LINK_FRAME=$((32 << 20))
SECRET="conformance-$RANDOM-$RANDOM-$$"
mkdir -p "$OUT"

log() { printf '[conformance %s] %s\n' "$(date +%H:%M:%S)" "$*"; }

# ---------------------------------------------------------------- Python 2.7
is_python27() { [ -n "$1" ] && "$1" -c 'import sys; sys.exit(sys.version_info[:2] != (2, 7))' 2>/dev/null; }

# The bullseye packages, unpacked into $WORK/python2.7, fetched with apt from the mirrors this
# machine's own apt sources name, with bullseye for the suite.
unpack_bullseye_python() {
  local root="$WORK/python2.7" apt="$WORK/apt"
  log "fetching Debian bullseye's python2.7 packages"
  mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$apt/debs" "$root"
  python3 - "$apt/sources.list" <<'PY'
import glob, re, sys
uris = []
for path in glob.glob("/etc/apt/sources.list.d/*.sources"):
    for stanza in open(path).read().split("\n\n"):
        fields = dict(re.findall(r"^(\w[\w-]*):\s*(.*)$", stanza, re.M))
        if "bookworm" in fields.get("Suites", "").split() and fields.get("Types") == "deb":
            uris += fields["URIs"].split()
for path in ["/etc/apt/sources.list"] + glob.glob("/etc/apt/sources.list.d/*.list"):
    try:
        for line in open(path):
            parts = line.split()
            if len(parts) >= 3 and parts[0] == "deb" and parts[2] == "bookworm":
                uris.append(parts[1])
    except OSError:
        pass
if not uris:
    sys.exit("no Debian bookworm source in /etc/apt to derive a bullseye one from")
with open(sys.argv[1], "w") as out:
    out.write("deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] %s bullseye main\n" % uris[0])
PY
  local options=(-o "Dir::Etc::SourceList=$apt/sources.list" -o "Dir::Etc::SourceParts=/dev/null"
    -o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache" -o "Debug::NoLocking=1" -o "APT::Sandbox::User=root")
  apt-get "${options[@]}" update -qq
  (cd "$apt/debs" && apt-get "${options[@]}" download \
    python2.7 python2.7-minimal libpython2.7-minimal libpython2.7-stdlib libpython2.7 \
    python2.7-dev libpython2.7-dev libssl1.1 libffi7)
  local deb
  for deb in "$apt/debs"/*.deb; do dpkg-deb -x "$deb" "$root"; done
  printf '%s\n' "#!/bin/sh" \
    "LD_LIBRARY_PATH=\"$root/usr/lib/x86_64-linux-gnu\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}\" exec \"$root/usr/bin/python2.7\" \"\$@\"" \
    > "$WORK/python2.7-bullseye"
  chmod +x "$WORK/python2.7-bullseye"
}

find_python27() {
  local candidate
  for candidate in "${CONFORMANCE_PYTHON2:-}" "$(command -v python2.7 || true)" \
    "$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")"/versions/2.7*/bin/python2.7 "$WORK/python2.7-bullseye"; do
    if is_python27 "$candidate"; then echo "$candidate"; return 0; fi
  done
  return 1
}

PYTHON2="$(find_python27 || true)"
if [ -z "$PYTHON2" ]; then
  unpack_bullseye_python
  PYTHON2="$(find_python27)" || { log "the bullseye python2.7 does not run here"; exit 2; }
fi
log "python 2.7: $PYTHON2"

SITE="$WORK/site"
# The site's compiled modules fit the interpreter that installed them, which .complete names.
if [ "$(cat "$SITE/.complete" 2>/dev/null)" != "$PYTHON2" ]; then
  rm -rf "$SITE"
  log "installing autobahntestsuite into $SITE"
  if ! "$PYTHON2" -m pip --version > /dev/null 2>&1; then
    # A Python 2.7 without pip (Debian's): pip's last release for 2.7, run from its wheel.
    python3 -m pip download --disable-pip-version-check --quiet --no-deps --only-binary=:all: --python-version 2.7 -d "$WORK/pip" "pip<21"
    # Unzipped: pip runs helper scripts from its own folder when it builds a package.
    python3 -m zipfile -e "$(ls "$WORK"/pip/pip-*.whl | head -n 1)" "$WORK/pip/unpacked"
    PIP=("$PYTHON2" "$WORK/pip/unpacked/pip")
    # Some dependencies come as sources (one with C code: the headers came with the packages
    # above), and their setup.py needs setuptools.
    "${PIP[@]}" install --disable-pip-version-check --no-warn-script-location --quiet --target "$WORK/tools" "setuptools<45" "wheel<0.38"
    export PYTHONPATH="$WORK/tools"
    # The unpacked headers are not where that Python's build settings say (/usr/include).
    export CFLAGS="-I$WORK/python2.7/usr/include/python2.7 -I$WORK/python2.7/usr/include"
  else
    PIP=("$PYTHON2" -m pip)
  fi
  "${PIP[@]}" install --disable-pip-version-check --no-warn-script-location --quiet --target "$SITE" autobahntestsuite==0.8.2
  echo "$PYTHON2" > "$SITE/.complete"
fi
# addsitedir, not PYTHONPATH: zope's namespace package needs its .pth file read.
wstest() {
  "$PYTHON2" -W ignore -c 'import site, sys; site.addsitedir(sys.argv[1]); sys.argv = ["wstest"] + sys.argv[2:]; from autobahntestsuite.wstest import run; run()' "$SITE" "$@"
}

# ---------------------------------------------------------------- the echo demo
if [ "${CONFORMANCE_NO_BUILD:-0}" != 1 ]; then
  log "building"
  swift build --product datacentered
fi
DATACENTERED="$ROOT/.build/debug/datacentered"

PIDS=()
cleanup() {
  local rc=$? pid
  trap - EXIT INT TERM
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start() {
  local name="$1"; shift
  "$@" > "$OUT/$name.log" 2>&1 &
  PIDS+=("$!")
}

# wait_for FILE PATTERN TIMEOUT : until FILE has PATTERN, written by the process started last.
wait_for() {
  local deadline=$((SECONDS + $3)) pid="${PIDS[-1]}"
  until grep -q -- "$2" "$1" 2>/dev/null; do
    kill -0 "$pid" 2>/dev/null || { tail -n 5 "$1"; log "process $pid ended before '$2' appeared in $1"; exit 1; }
    [ "$SECONDS" -ge "$deadline" ] && { log "timed out waiting for '$2' in $1"; exit 1; }
    sleep 0.1
  done
}

read -r MC_PORT WS_PORT LAN_PORT <<< "$(python3 -c '
import socket
held = [socket.socket() for _ in range(3)]
for s in held: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in held))')"
memcached_user=()
[ "$(id -u)" = 0 ] && memcached_user=(-u root)
start memcached memcached -l 127.0.0.1 -p "$MC_PORT" -U 0 "${memcached_user[@]}"
until (exec 3<>"/dev/tcp/127.0.0.1/$MC_PORT") 2>/dev/null; do sleep 0.1; done
start gateway env DATACENTERED_SECRET_KEY="$SECRET" "$DATACENTERED" gateway \
  --listen "127.0.0.1:$WS_PORT" --lan-ip 127.0.0.1 --lan-port "$LAN_PORT" \
  --memcached "127.0.0.1:$MC_PORT" --max-message-size "$MAX_MESSAGE" --max-link-frame-size "$MAX_LINK_FRAME"
wait_for "$OUT/gateway.log" "gateway ready" 60
start worker env DATACENTERED_SECRET_KEY="$SECRET" "$DATACENTERED" worker \
  --memcached "127.0.0.1:$MC_PORT" --handler echo --max-link-frame-size "$MAX_LINK_FRAME"
wait_for "$OUT/worker.log" "linked to gateway" 60
log "echo demo up on ws://127.0.0.1:$WS_PORT (logs in $OUT)"

# ---------------------------------------------------------------- the fuzzing client
# 7.1.6 is left out: informational only, and its 256 KiB message starts with "B", which the demo
# broadcasts to every client; the client leaves without waiting for it, so the broadcast can land in
# the next case's connection and fail that case.
cat > "$OUT/fuzzingclient.json" <<EOF
{
  "outdir": "$OUT/reports",
  "servers": [{"agent": "datacentered", "url": "ws://127.0.0.1:$WS_PORT"}],
  "cases": $CASES,
  "exclude-cases": ["7.1.6"],
  "exclude-agent-cases": {}
}
EOF
log "running the fuzzing client"
(cd "$OUT" && wstest --mode fuzzingclient --spec "$OUT/fuzzingclient.json") > "$OUT/wstest.log" 2>&1 \
  || { tail -n 20 "$OUT/wstest.log"; log "wstest failed (see $OUT/wstest.log)"; exit 1; }

python3 - "$OUT/reports/index.json" <<'PY'
import collections, json, sys
cases = json.load(open(sys.argv[1]))["datacentered"]
def key(case):
    return [int(part) for part in case.split(".")]
counts = collections.Counter(result["behavior"] for result in cases.values())
print("conformance: %d cases: %s" % (len(cases), ", ".join("%s %d" % item for item in sorted(counts.items()))))
for case in sorted(cases, key=key):
    result = cases[case]
    if result["behavior"] not in ("OK", "INFORMATIONAL"):
        print("  %s %s (close: %s)" % (case, result["behavior"], result["behaviorClose"]))
sys.exit(1 if counts.get("FAILED") else 0)
PY
