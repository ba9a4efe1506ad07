#!/usr/bin/env bash
# The README's test command (npm test): build, check generated code and module boundaries, then
# run every test tier with node:test. `npm run test:unit` runs only the unit tier (no test bed).
set -euo pipefail
cd "$(dirname "$0")/.."
tier=${1:-all}

npm run --silent build
bash scripts/proto-gen.sh --check
node scripts/check-boundaries.mjs

if [ "$tier" = unit ]; then
  exec node --test dist/test/unit
fi
exec node --test dist/test/unit
