#!/usr/bin/env bash
# The one test command: prepares what the tests need, then runs every suite (TypeScript and Python).
#   npm test                    all suites
#   npm test -- @azr/db worker  only the named vitest projects / Python suites
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
[ -n "${AZR_TEST_DATABASE_URL:-}" ] || bash scripts/ensure-postgres.sh
exec node scripts/run-suites.mjs "$@"
