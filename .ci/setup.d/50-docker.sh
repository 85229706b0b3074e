#!/usr/bin/env bash
# CI service hook (run as root by .ci/run before the tests): start the Docker daemon and build
# the executor image once, so the executor's Docker backend tests run for real.
#   - dockerd as design.md describes (vfs storage, no iptables, no bridge); reused if running
#   - docker/executor/build.sh: debootstrap root + docker import; reused if already built
# Each step has its own time budget; the whole hook stays within about 9 minutes (debootstrap took 30 s idle, 160 s on a loaded machine).
set -euo pipefail
cd "$(dirname "$0")/../.."

if ! command -v dockerd >/dev/null; then
  echo "dockerd missing: docker.io should have been installed from scripts/system-packages.txt" >&2
  exit 1
fi

if ! timeout 10 docker info >/dev/null 2>&1; then
  echo "==> starting dockerd"
  mkdir -p /var/log
  nohup dockerd --storage-driver=vfs --iptables=false --bridge=none >/var/log/azr-dockerd.log 2>&1 &
  for _ in $(seq 1 60); do
    timeout 5 docker info >/dev/null 2>&1 && break
    sleep 1
  done
  if ! timeout 10 docker info >/dev/null 2>&1; then
    echo "dockerd did not come up within 60 s:" >&2
    tail -n 30 /var/log/azr-dockerd.log >&2 || true
    exit 1
  fi
fi
echo "dockerd: $(docker info --format '{{.ServerVersion}} storage={{.Driver}}')"

echo "==> executor image"
timeout 480 bash docker/executor/build.sh
