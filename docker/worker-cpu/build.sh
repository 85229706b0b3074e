#!/usr/bin/env bash
# Builds the CPU worker image offline, or reuses it when an image with the same content exists.
#
#   bash docker/worker-cpu/build.sh            build if needed; prints the pinned reference
#   bash docker/worker-cpu/build.sh --ref      prints the pinned reference; exit 3 if not built
#   bash docker/worker-cpu/build.sh --hash     prints the content hash of the current sources
#
# No registry is reachable here, so there is no FROM debian:... : the image is one layer,
# `docker import`ed from a Debian root made by `debootstrap --variant=minbase` with python3,
# python3-torch, python3-websockets, python3-numpy and libopenblas0-pthread from the mirror apt is
# configured with, plus apps/worker/azr_worker under /opt/azr-worker. The runtime settings a
# Dockerfile would hold (user, environment, entrypoint) are given to the import below.
#
# Why not a Dockerfile FROM an imported base: with the vfs storage driver (the only one that
# runs here) every build step copies the whole 1.2 GB root, about 35 s and 1.2 GB of disk per
# step. An import is one copy (about 12 s). The debootstrapped root (the slow part, minutes) is
# kept in $AZR_CACHE_DIR so that a change to the worker's code only costs the import.
#
# The image carries the label org.azr.content-hash (the recipe, this script and every worker
# source file); an image with the wanted label is reused. The reference printed is
# azr/worker-cpu@sha256:<image id>: a locally built image has no registry digest, and its image id
# is its content address (the hash of its config, which names its layer's digest), so that is
# what pools pin.
#
# Environment: AZR_WORKER_IMAGE_BUDGET  seconds the whole build may take (default 900)
#              AZR_CACHE_DIR            where the Debian root is kept (default /var/cache/azr)
#              AZR_DEBIAN_MIRROR        overrides the mirror taken from apt's configuration
#              DOCKER                   the docker client (default: docker)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
docker=${DOCKER:-docker}
budget=${AZR_WORKER_IMAGE_BUDGET:-900}
cache=${AZR_CACHE_DIR:-/var/cache/azr}
started=$(date +%s)

suite=bookworm
packages=python3,python3-torch,python3-websockets,python3-numpy,libopenblas0-pthread
# Bump when the way the root is made changes (it names the cached root).
root_recipe="v1 debootstrap --variant=minbase $suite include=$packages; apt lists, docs and caches removed"
# The fixed unprivileged uid the worker runs as; the launcher also sets it at run time, and the
# data directory mounted at /data must be writable by it.
uid=10001
changes=(
  "USER $uid:$uid"
  "WORKDIR /opt/azr-worker"
  "ENV PYTHONPATH=/opt/azr-worker"
  "ENV PYTHONUNBUFFERED=1"
  "ENV PYTHONDONTWRITEBYTECODE=1"
  "ENV HOME=/tmp"
  "ENV LANG=C.UTF-8"
  "ENV PATH=/usr/local/bin:/usr/bin:/bin"
  "ENV AZR_WORKER_DATA_ROOT=/data"
  'ENTRYPOINT ["/usr/bin/python3", "-m", "azr_worker"]'
)

sha() { sha256sum | cut -d' ' -f1; }
root_hash=$(printf '%s\n' "$root_recipe" | sha)
content_hash=$(
  cd "$repo/apps/worker"
  {
    echo "$root_hash"
    printf '%s\n' "${changes[@]}"
    find azr_worker -type f ! -path '*/__pycache__/*' ! -name '*.pyc' -print0 | LC_ALL=C sort -z | xargs -0 sha256sum
  } | sha
)
image="azr/worker-cpu:${content_hash:0:16}"
root="$cache/worker-cpu-root-${root_hash:0:16}"

# The id of a local worker-cpu image carrying the wanted content-hash label, if any.
find_image() {
  "$docker" images --no-trunc --filter "label=org.azr.content-hash=$content_hash" --format '{{.Repository}} {{.ID}}' |
    awk '$1 == "azr/worker-cpu" { print $2; exit }'
}
remaining() { echo $(( budget - ($(date +%s) - started) )); }
need_time() { # seconds phase
  if [ "$(remaining)" -lt "$1" ]; then
    echo "worker-cpu: out of time budget ($budget s) before $2" >&2
    exit 1
  fi
}

case "${1:-}" in
  --hash) echo "$content_hash"; exit 0 ;;
  --ref)
    id=$(find_image)
    [ -n "$id" ] || { echo "worker-cpu: no image for content $content_hash; run bash docker/worker-cpu/build.sh" >&2; exit 3; }
    echo "azr/worker-cpu@$id"; exit 0 ;;
  "") ;;
  *) echo "usage: build.sh [--ref|--hash]" >&2; exit 2 ;;
esac

"$docker" info >/dev/null 2>&1 || { echo "worker-cpu: no Docker daemon reachable (docker info failed)" >&2; exit 1; }

# One build at a time on this machine (the CI hook and a test may both ask): the second waits,
# then finds the first one's image.
exec 9>/tmp/azr-worker-cpu-build.lock
flock -w "$(remaining)" 9 || { echo "worker-cpu: waited the whole budget for another build" >&2; exit 1; }

id=$(find_image)
if [ -n "$id" ]; then
  echo "worker-cpu: reusing $image ($id)" >&2
  echo "azr/worker-cpu@$id"
  exit 0
fi

work=$(mktemp -d /tmp/azr-worker-cpu.XXXXXX)
trap 'rm -rf "$work"' EXIT

if [ ! -d "$root" ]; then
  [ "$(id -u)" = 0 ] || { echo "worker-cpu: debootstrap needs root (run: sudo bash $0)" >&2; exit 1; }
  command -v debootstrap >/dev/null || { echo "worker-cpu: debootstrap is missing (apt-get install debootstrap)" >&2; exit 1; }
  mirror=${AZR_DEBIAN_MIRROR:-$(apt-get indextargets --format '$(REPO_URI) $(RELEASE)' 'Created-By: Packages' 2>/dev/null |
    awk -v s="$suite" '$2 == s { print $1; exit }')}
  [ -n "$mirror" ] || { echo "worker-cpu: no $suite mirror in apt's sources; set AZR_DEBIAN_MIRROR" >&2; exit 1; }
  need_time 60 debootstrap
  mkdir -p "$cache"
  partial="$root.partial"
  rm -rf "$partial"
  echo "worker-cpu: debootstrap $suite from $mirror (minutes)" >&2
  t0=$(date +%s)
  if ! timeout "$(remaining)" debootstrap --variant=minbase --include="$packages" "$suite" "$partial" "$mirror" \
      >"$work/debootstrap.log" 2>&1; then
    tail -n 30 "$work/debootstrap.log" >&2
    [ -f "$partial/debootstrap/debootstrap.log" ] && tail -n 30 "$partial/debootstrap/debootstrap.log" >&2
    rm -rf "$partial"
    echo "worker-cpu: debootstrap failed or ran out of budget" >&2
    exit 1
  fi
  # Nothing in the image needs apt's state, documentation or caches (a few hundred MB).
  rm -rf "$partial/var/lib/apt/lists/"* "$partial/var/cache/apt/"* "$partial/usr/share/doc" \
    "$partial/usr/share/man" "$partial/usr/share/info" "$partial/usr/share/locale" "$partial/debootstrap"
  mv "$partial" "$root"
  echo "worker-cpu: debootstrap took $(( $(date +%s) - t0 )) s" >&2
fi

need_time 30 "docker import"
mkdir -p "$work/add/opt/azr-worker"
(cd "$repo/apps/worker" && find azr_worker -type f ! -path '*/__pycache__/*' ! -name '*.pyc' -print0 |
  xargs -0 cp --parents -t "$work/add/opt/azr-worker")
# Compiled here with Debian's python3 (the image's version): the root filesystem is read-only at
# run time. unchecked-hash: the .pyc files stay valid whatever mtimes the files end up with.
/usr/bin/python3 -m compileall -q --invalidation-mode unchecked-hash "$work/add/opt/azr-worker/azr_worker"
# Owned by root in the image, so the worker (uid 10001) cannot change its own code.
[ "$(id -u)" = 0 ] && chown -R 0:0 "$work/add"
args=()
for c in "${changes[@]}"; do args+=(--change "$c"); done
t0=$(date +%s)
# One archive: the cached root, then the worker's code.
tar --numeric-owner -c -C "$root" . -C "$work/add" ./opt/azr-worker |
  timeout "$(remaining)" "$docker" import "${args[@]}" \
    --change "LABEL org.azr.content-hash=$content_hash" \
    --change "LABEL org.azr.image=worker-cpu" \
    - "$image" >/dev/null
id=$(find_image)
[ -n "$id" ] || { echo "worker-cpu: imported $image but cannot find it by its label" >&2; exit 1; }
size=$("$docker" image inspect --format '{{.Size}}' "$id")
echo "worker-cpu: import took $(( $(date +%s) - t0 )) s; built $image ($id, $(( size / 1000000 )) MB) in $(( $(date +%s) - started )) s" >&2
echo "azr/worker-cpu@$id"
