#!/usr/bin/env bash
# Builds the executor image offline, or reuses it when it already exists.
#
#   bash docker/executor/build.sh          build if needed; prints the image reference
#
# The image is a Debian root filesystem from `debootstrap --variant=minbase --include=python3,python3-sympy`
# (full python3: python3-minimal lacks json, resource and ctypes; python3-sympy for math scoring,
# which only scoring pools put on sys.path: others mount an empty tmpfs over dist-packages, see
# packages/executor/src/system-modules.ts), made from the mirror apt is
# configured with and `docker import`ed: no registry is reachable, so there is no FROM line.
# Nothing else goes in: the runner's source is passed to the interpreter at container start
# (packages/executor/src/runner-source.ts), so runner changes never need a rebuild. The image
# carries the label org.azr.executor.recipe; an image with the current recipe is reused.
#
# Environment: AZR_DEBIAN_MIRROR  overrides the mirror taken from apt's configuration
#              AZR_EXECUTOR_IMAGE image reference (default azr/executor:bookworm)
#              DOCKER             the docker client (default: docker)
set -euo pipefail
docker=${DOCKER:-docker}
image=${AZR_EXECUTOR_IMAGE:-azr/executor:bookworm}
suite=bookworm
# Bump when the way the root is made changes.
recipe="v2 debootstrap --variant=minbase $suite include=python3,python3-sympy; docs, apt lists and caches removed"

current=$($docker image inspect --format '{{ index .Config.Labels "org.azr.executor.recipe" }}' "$image" 2>/dev/null || true)
if [ "$current" = "$recipe" ]; then
  echo "$image"
  exit 0
fi

mirror=${AZR_DEBIAN_MIRROR:-}
if [ -z "$mirror" ]; then
  mirror=$(grep -hE '^\s*URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' | grep -v security | head -n1 || true)
fi
if [ -z "$mirror" ]; then
  mirror=$(grep -hE '^\s*deb\s' /etc/apt/sources.list 2>/dev/null | awk '{print $2}' | head -n1 || true)
fi
[ -n "$mirror" ] || { echo "error: no Debian mirror found in apt's configuration; set AZR_DEBIAN_MIRROR" >&2; exit 1; }
command -v debootstrap >/dev/null || { echo "error: debootstrap is not installed (apt-get install debootstrap)" >&2; exit 1; }

work=$(mktemp -d /var/tmp/azr-executor-root.XXXXXX)
trap 'rm -rf "$work"' EXIT
root="$work/root"
echo "==> debootstrap $suite from $mirror" >&2
debootstrap --variant=minbase --include=python3,python3-sympy "$suite" "$root" "$mirror" >"$work/debootstrap.log" 2>&1 || {
  tail -n 30 "$work/debootstrap.log" >&2
  exit 1
}
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/* "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/locale/*
echo "==> docker import $image" >&2
tar -C "$root" -c . | $docker import \
  --change "LABEL org.azr.executor.recipe=\"$recipe\"" \
  --change 'USER 65534:65534' \
  --change 'WORKDIR /tmp' \
  --change 'ENV LANG=C.UTF-8' \
  - "$image" >/dev/null
echo "$image"
