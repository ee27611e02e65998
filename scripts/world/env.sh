# shellcheck shell=bash
# Point a shell (or a test run) at the local world made by up.sh:
#   source scripts/world/env.sh
# Only exports; safe to source more than once.
_pg_images_world="${PG_IMAGES_WORLD:-/var/tmp/pg-images-world}"

# Debian's dockerd (API 1.41). Newer docker clients negotiate down to it, so no
# DOCKER_API_VERSION is needed.
export DOCKER_HOST="unix://$_pg_images_world/docker/docker.sock"
# syft, crane and cosign built by tools.sh.
case ":$PATH:" in *":$_pg_images_world/bin:"*) ;; *) export PATH="$_pg_images_world/bin:$PATH" ;; esac

# --- Dagger settings (owned by scripts/world/dagger.sh) ---
# The SDK runs the CLI dagger.sh built (instead of downloading one), and the
# CLI talks to the engine container through its socket.
export _EXPERIMENTAL_DAGGER_CLI_BIN="$_pg_images_world/bin/dagger"
export _EXPERIMENTAL_DAGGER_RUNNER_HOST="unix://$_pg_images_world/dagger/run/engine.sock"
# No telemetry, no update check: nothing beyond this machine but the pipeline's own traffic.
export DO_NOT_TRACK=1
export DAGGER_NO_UPDATE_CHECK=1
export DAGGER_NO_NAG=1
# This CLI is built without the interactive terminal UI (see dagger-stubs/).
export DAGGER_PROGRESS=plain
# --- end of Dagger settings ---

unset _pg_images_world
