#!/usr/bin/env bash
# Sets up and starts the control plane (API, scheduler, sandboxes, demo run) on the embedded
# database (.azr/ in this directory), or on PostgreSQL when DATABASE_URL is set, with the
# dashboard beside it. Arguments are passed to the server (try --help).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
case " $* " in
  *" --no-web "*|*" --help "*|*" -h "*) ;;
  *)
    # The dashboard's production build, made again when its sources changed since the last one.
    build_id=apps/web/${AZR_WEB_DIST_DIR:-.next}/BUILD_ID
    if [ ! -f "$build_id" ] || [ -n "$(find apps/web/src apps/web/next.config.ts packages/client/src packages/azr/src -newer "$build_id" -print -quit 2>/dev/null)" ]; then
      echo "==> building the dashboard (next build, about a minute)"
      npm run build -w @azr/web --silent >/dev/null
    fi
    ;;
esac
exec node --import tsx apps/server/src/main.ts "$@"
