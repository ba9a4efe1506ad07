#!/usr/bin/env bash
# Regenerates the OKG goldens: builds (or reuses) the oracle from kruise-game's release on the Go module
# proxy (build-oracle.sh), generates the seeded cases, runs them through OKG's own code and writes
# test/fixtures/gss/template-golden/okg-render.jsonl.gz and okg-sync.jsonl.gz (gzip: 2.5 MB of JSON lines
# become ~0.3 MB; read them with zcat). Needs go (any version that can fetch toolchains)
# and network access to the module proxy; not run by npm test or CI. See README.md here.
#   bash test/okg-oracle/regenerate.sh [SEED]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source=../../scripts/versions.env
. "$repo/scripts/versions.env"
seed=${1:-17}
oracle=$(bash "$here/build-oracle.sh")
(cd "$repo" && npm run --silent build)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
node "$repo/dist/test/okg-oracle/generate-cases.js" --seed "$seed" --templates 3000 --results 5 --chains 300 > "$tmp/cases.jsonl"
# OKG logs a stack trace for every priority past int32 (intstr.FromInt): keep it out of the way
OKGSQ_ORACLE_IN="$tmp/cases.jsonl" OKGSQ_ORACLE_OUT="$tmp/answers.jsonl" "$oracle" -test.run TestOkgsqOracle >"$tmp/oracle.log" 2>&1 ||
  { tail -20 "$tmp/oracle.log" >&2; exit 1; }
dir="$repo/test/fixtures/gss/template-golden"
KRUISE_GAME_VERSION=$KRUISE_GAME_VERSION KRUISE_GAME_GO_VERSION=$KRUISE_GAME_GO_VERSION \
  node "$repo/dist/test/okg-oracle/write-goldens.js" "$tmp/cases.jsonl" "$tmp/answers.jsonl" --seed "$seed" --render "$tmp/okg-render.jsonl" --sync "$tmp/okg-sync.jsonl"
for f in okg-render okg-sync; do
  echo "regenerate: $f: $(head -1 "$tmp/$f.jsonl")" >&2
  gzip -9n < "$tmp/$f.jsonl" > "$dir/$f.jsonl.gz.tmp" && mv "$dir/$f.jsonl.gz.tmp" "$dir/$f.jsonl.gz"
done
