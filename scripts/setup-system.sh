#!/usr/bin/env bash
# Installs the Debian packages the portal and its tests need, skipping what is present.
# Idempotent: a fresh machine and CI end up with the same system.
set -euo pipefail
packages=(
  libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libharfbuzz-subset0 fontconfig
  fonts-noto-cjk poppler-utils chromium
  # node runs the test tooling of package.json: axe-core in pages, and oidc-provider (a real
  # OpenID Connect provider for the sign-in tests); `make node` installs them with npm.
  nodejs
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "system packages: all present"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "missing system packages (${missing[*]}); run as root or install them" >&2
  exit 1
fi
echo "installing system packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
