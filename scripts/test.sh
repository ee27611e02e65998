#!/usr/bin/env bash
# The test command (npm test): installs what it needs, then runs, in order,
#   1. the checks that need no engine: types, module registration, unit tests;
#   2. every recipe built on a real Docker engine and smoke-tested (test/images);
#   3. the whole chain on a real Dagger engine and registry (test/e2e).
# The local world (Docker engine, registry, base images, syft, crane, Dagger engine) is
# provisioned by scripts/world/up.sh and stopped again on exit; its caches stay for the next run.
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

step "provision the local world"
if [[ ${PG_IMAGES_KEEP_WORLD:-0} != 1 ]]; then trap 'bash scripts/world/down.sh' EXIT; fi
# Kubernetes may still be building on a fresh machine: the tests that need no cluster go first,
# and the operator tests start it (vitest.config.ts runs them last).
PG_IMAGES_KUBE=later bash scripts/world/up.sh
source scripts/world/env.sh

step "recipes on a real Docker engine"
npx vitest run --project images

step "the chain on a real Dagger engine"
npx vitest run --project e2e

step "done"
