#!/usr/bin/env bash
# Makes sure the PostgreSQL on 127.0.0.1:5432 that the tests use is up; starts the Debian cluster
# when it is installed but stopped. Prints why when it cannot.
set -uo pipefail
ready() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }
ready && exit 0
if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  echo "==> starting PostgreSQL $version"
  pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  for _ in $(seq 1 30); do ready && exit 0; sleep 1; done
fi
echo "error: PostgreSQL is not accepting connections on 127.0.0.1:5432; install the Debian package 'postgresql' or set AZR_TEST_DATABASE_URL" >&2
exit 1
