#!/usr/bin/env bash
# Generates the Prisma client offline. Prisma 7's client is engine-free; the CLI only insists that a
# schema-engine binary exists, which generate never runs, so any existing file satisfies it.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x node_modules/.bin/prisma ] || { echo "prisma CLI not installed yet; skipping generate" >&2; exit 0; }
export PRISMA_SCHEMA_ENGINE_BINARY="${PRISMA_SCHEMA_ENGINE_BINARY:-/bin/true}"
export PRISMA_HIDE_UPDATE_MESSAGE=1 CHECKPOINT_DISABLE=1
node_modules/.bin/prisma generate --schema prisma/schema.prisma
