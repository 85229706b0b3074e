#!/usr/bin/env bash
# Sets up and starts the control plane on the embedded database (.azr/ in this directory), or on
# PostgreSQL when DATABASE_URL is set. Arguments are passed to the server (try --help).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec node --import tsx apps/server/src/main.ts "$@"
