#!/usr/bin/env bash
# The test command (npm test): installs what it needs, then runs, in order,
#   1. the checks that need no engine: types, module registration, unit tests;
#   2. every recipe built on a real Docker engine and smoke-tested (test/images);
#   3. the whole chain on a real Dagger engine and registry (test/e2e).
# The local world (Docker engine, registry, base images, syft, crane, Dagger engine) is
# provisioned by scripts/world/up.sh, the part the image tests do not use beside them, and
# stopped again on exit; its caches stay for the next run.
set -euo pipefail
cd "$(dirname "$0")/.."

# Each step says when it starts, counted from the start of the run: the figures CI's log keeps.
step() { printf '\n=== [%dm%02ds] %s\n' $((SECONDS / 60)) $((SECONDS % 60)) "$*"; }

step "install (npm ci; jq for the CI fan-out tests)"
npm ci --no-audit --no-fund
command -v jq >/dev/null || { apt-get update -qq && apt-get install -y -qq jq >/dev/null; }

step "typecheck against the real SDK types"
npx tsc --noEmit

step "unit tests and module registration"
npx vitest run --project unit

step "provision what the image tests need (Docker, the registry, the bases)"
rest=
stop_world() {
  if [[ -n $rest ]]; then kill -- "-$rest" 2>/dev/null || true; fi
  if [[ ${PG_IMAGES_KEEP_WORLD:-0} != 1 ]]; then bash scripts/world/down.sh; fi
}
trap stop_world EXIT
# Kubernetes may still be building on a fresh machine: the tests that need no cluster go first,
# and the operator tests start it (vitest.config.ts runs them last).
PG_IMAGES_KUBE=later bash scripts/world/up.sh docker emulation bases kube
source scripts/world/env.sh
# The rest of the world (tools, the Dagger engine, the PGDG-shaped repositories: long on a fresh
# machine) builds beside the image tests, which use none of it.
rest_log=$(mktemp)
set -m
bash scripts/world/up.sh tools dagger pgdg >"$rest_log" 2>&1 &
rest=$!
set +m

step "recipes on a real Docker engine"
npx vitest run --project images

step "the rest of the world"
status=0
wait "$rest" || status=$?
rest=
cat "$rest_log"
((status == 0)) || { echo "scripts/world/up.sh tools dagger pgdg failed (exit $status)" >&2; exit 1; }

step "the chain on a real Dagger engine"
npx vitest run --project e2e

step "done"
