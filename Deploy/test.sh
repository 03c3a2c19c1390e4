#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test (unit and end-to-end, with real processes).
# Ends with one plain line, "N passed, N failed", from XCTest's own count.
set -euo pipefail
cd "$(dirname "$0")/.."

bash Deploy/install-deps.sh
swift build --build-tests
log=$(mktemp -t datacentered-tests.XXXXXX)
status=0
swift test --skip-build --disable-swift-testing "$@" 2>&1 | tee "$log" || status=$?
summary=$(grep -E "^[[:space:]]*Executed [0-9]+ tests?, with [0-9]+ failures?" "$log" | tail -1 || true)
if [ -n "$summary" ]; then
  total=$(sed -E 's/.*Executed ([0-9]+) tests?.*/\1/' <<<"$summary")
  failed=$(sed -E 's/.*with ([0-9]+) failures?.*/\1/' <<<"$summary")
  echo "tests: $((total - failed)) passed, $failed failed"
fi
rm -f "$log"
exit "$status"
