#!/usr/bin/env bash
# The benchmarks' system tools: wrk, the HTTP load generator (a Python client would share the two
# cores with the server and measure itself). Skipped when present; run as root to install.
set -euo pipefail
if command -v wrk >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "wrk is missing; run as root or install it (apt-get install -y wrk)" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends wrk
