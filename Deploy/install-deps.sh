#!/usr/bin/env bash
# Installs the system packages and the Python test client DataCentered needs on Debian.
# Idempotent: does nothing when everything is already there.
set -euo pipefail

packages=(memcached libmemcached-dev libssl-dev pkg-config python3-pip openssl netcat-openbsd chromium chromium-driver)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: run as root to install: ${missing[*]}" >&2
    exit 1
  fi
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The tests use Python's `websockets` as a WebSocket client that nobody here wrote.
if ! python3 -c 'import websockets' >/dev/null 2>&1; then
  echo "install-deps: installing python websockets"
  python3 -m pip install --quiet 'websockets>=12' 2>/dev/null \
    || python3 -m pip install --quiet --break-system-packages 'websockets>=12'
fi

# The dashboard's browser tests drive Debian's chromium and chromium-driver with Selenium.
if ! python3 -c 'import selenium' >/dev/null 2>&1; then
  echo "install-deps: installing python selenium"
  python3 -m pip install --quiet 'selenium>=4.20' 2>/dev/null \
    || python3 -m pip install --quiet --break-system-packages 'selenium>=4.20'
fi
