#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test (unit and end-to-end, with real processes).
# Ends with one plain line, "N passed, N failed, N skipped", from XCTest's own count.
#
# A skipped test is printed, and fails the run unless its reason starts with one of these (the
# documented allow-list; README "Tests"): things this machine cannot do, never a test that gave up.
ALLOWED_SKIP_REASONS=(
  "no network namespaces"   # the multi-machine test needs `ip netns` (root, CAP_NET_ADMIN)
)
set -euo pipefail
cd "$(dirname "$0")/.."

bash Deploy/install-deps.sh
swift build --build-tests
log=$(mktemp -t datacentered-tests.XXXXXX)
status=0
swift test --skip-build --disable-swift-testing "$@" 2>&1 | tee "$log" || status=$?

# "path:line: Class.testName : Test skipped - reason"
skips=$(grep -E " : Test skipped" "$log" || true)
if [ -n "$skips" ]; then
  echo "skipped tests:"
  while IFS= read -r line; do
    test=$(sed -E 's/^.*: ([^ ]+) : Test skipped.*$/\1/' <<<"$line")
    reason=$(sed -E 's/^.* : Test skipped( - )?//' <<<"$line")
    allowed=no
    for prefix in "${ALLOWED_SKIP_REASONS[@]}"; do
      if [[ "$reason" == "$prefix"* ]]; then allowed=yes; fi
    done
    echo "  $test: ${reason:-no reason given} (allowed: $allowed)"
    if [ "$allowed" = no ]; then status=1; fi
  done <<<"$skips"
fi

summary=$(grep -E "^[[:space:]]*Executed [0-9]+ tests?, with " "$log" | tail -1 || true)
if [ -n "$summary" ]; then
  total=$(sed -E 's/.*Executed ([0-9]+) tests?.*/\1/' <<<"$summary")
  failed=$(sed -E 's/.* ([0-9]+) failures? .*/\1/' <<<"$summary")
  skipped=0
  if grep -qE "with [0-9]+ tests? skipped" <<<"$summary"; then
    skipped=$(sed -E 's/.*with ([0-9]+) tests? skipped.*/\1/' <<<"$summary")
  fi
  echo "tests: $((total - failed - skipped)) passed, $failed failed, $skipped skipped"
fi
rm -f "$log"
exit "$status"
