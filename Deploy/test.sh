#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test (unit and end-to-end, with real processes).
set -euo pipefail
cd "$(dirname "$0")/.."

bash Deploy/install-deps.sh
swift build --build-tests
swift test --skip-build "$@"
