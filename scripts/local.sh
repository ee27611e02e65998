#!/usr/bin/env bash
# The main job on this machine (npm run local -- build-all | publish [--release] | plan):
# the module's own functions in client mode, through the locally provisioned Dagger engine, on the
# end-to-end matrix filled in for this machine (Debian's archive, the registry on 127.0.0.1:5000).
set -euo pipefail
cd "$(dirname "$0")/.."
[[ -d node_modules ]] || npm ci --no-audit --no-fund
npm run build --silent
bash scripts/world/up.sh
source scripts/world/env.sh
node dist/scripts/world/localMatrix.js
exec node dist/bin/pg-images-local.js "$@" --matrix .pg-images/local/matrix.yaml \
  --registry 127.0.0.1:5000/pg-images-local --testing-registry 127.0.0.1:5000/pg-images-local/testing
