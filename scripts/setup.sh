#!/usr/bin/env bash
# Prepares a machine for the platform: Debian packages (needs root; skipped when already present),
# npm dependencies (when package-lock.json changed since the last install) and the Prisma client.
#   --check-only   report what is missing, change nothing
set -euo pipefail
cd "$(dirname "$0")/.."
check_only=0
[ "${1:-}" = "--check-only" ] && check_only=1

mapfile -t packages < <(sed -e 's/#.*//' scripts/system-packages.txt | awk 'NF{print $1}')
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ $check_only = 1 ]; then
    echo "missing Debian packages: ${missing[*]} (install: sudo apt-get install ${missing[*]})"
  elif [ "$(id -u)" = 0 ]; then
    echo "==> installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "error: missing Debian packages: ${missing[*]}" >&2
    echo "       run as root once: sudo bash scripts/setup.sh   (or: sudo apt-get install ${missing[*]})" >&2
    exit 1
  fi
fi
[ $check_only = 1 ] && exit 0

stamp=node_modules/.azr-install-stamp
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ] || [ package.json -nt "$stamp" ]; then
  echo "==> installing npm dependencies (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
  touch "$stamp"
fi
bash scripts/prisma-generate.sh >/dev/null
