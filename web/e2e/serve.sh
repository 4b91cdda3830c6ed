#!/usr/bin/env bash
# The real service for the browser tests: a temporary SQLite database with
# the demo data, on the port Playwright gives (SEXTO_E2E_PORT). The database
# goes when the service stops.
set -euo pipefail
here="$(cd "$(dirname "$0")/../.." && pwd)"
bin="$here/.venv/bin"
state="$(mktemp -d)"
export SEXTO_VAR_DIR="$state"
export SEXTO_WEB_DIST="$here/web/dist"
# Fast password hashing and no sign-in limits: many sign-ins from one address.
export SEXTO_ARGON2_TIME_COST=1 SEXTO_ARGON2_MEMORY_COST=1024 SEXTO_ARGON2_PARALLELISM=1
export SEXTO_SIGNIN_LIMIT_PER_ADDRESS=100000 SEXTO_SIGNIN_LIMIT_GLOBAL=100000
export SEXTO_LOG_LEVEL=WARNING SEXTO_AUDIT_CHECKPOINT_INTERVAL_SECONDS=0 SEXTO_AUDIT_CHECKPOINT_EVERY_ENTRIES=0
# The DPJ reporter must enrol a second factor: the enrolment is tested on that role.
export SEXTO_MFA_REQUIRED_ROLES='["dpj_reporter"]'
"$bin/sexto" migrate >/dev/null
"$bin/sexto" demo >/dev/null
"$bin/uvicorn" app.main:create_app --factory --app-dir "$here" --host 127.0.0.1 --port "${SEXTO_E2E_PORT:?}" \
    --no-access-log --log-level warning &
pid=$!
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -rf "$state"' EXIT INT TERM
wait "$pid"
