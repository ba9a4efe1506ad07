#!/usr/bin/env bash
# Runs every benchmark (npm run bench): moderate sizes by default (about 15 minutes on 2 cores), the
# goals' full sizes with --full (the 30-minute soak alone makes that over 45 minutes). Benches that need
# the real test bed run under `test/testbed/cli.js run` (one bed each: every script also runs alone).
# Each bench prints a JSON document then a goal table; both are kept in $BENCH_OUT (default: a temp dir).
#   bash bench/run-all.sh [--full]        OKGSQ_DIST_DIR=dist-x bash bench/run-all.sh   (another build dir)
set -euo pipefail
cd "$(dirname "$0")/.."
DIST="${OKGSQ_DIST_DIR:-dist}"
OUT="${BENCH_OUT:-$(mktemp -d /tmp/okgsq-bench-XXXXXX)}"
mkdir -p "$OUT"
FULL=0
[[ "${1:-}" == "--full" ]] && FULL=1

bed() { node "$DIST/test/testbed/cli.js" run -- "$@"; }
# The cluster bed with OKG's stack and every request audited (one cluster bed per machine at a time).
okgbed() { node "$DIST/test/testbed/cli.js" run --cluster --okg --audit-all -- "$@"; }

run() {
  local name="$1"
  shift
  echo "== $name: $* (load: $(cut -d' ' -f1-3 /proc/loadavg))"
  local start=$SECONDS
  if "$@" >"$OUT/$name.txt" 2>"$OUT/$name.log"; then
    sed -n '/^$/,$p' "$OUT/$name.txt" | sed '1d'   # the table (the JSON stays in the file)
  else
    echo "!! $name failed (exit $?); log tail:"
    tail -20 "$OUT/$name.log"
    FAILED=1
  fi
  echo "   ($((SECONDS - start)) s; JSON in $OUT/$name.txt)"
}

FAILED=0
if [[ $FULL == 1 ]]; then
  run ingest node "$DIST/bench/ingest-throughput.js"
  run agent bed node "$DIST/bench/agent-probes.js" --seconds 60
  run flips-1k bed node "$DIST/bench/decider-flips.js" --gameservers 1000 --agents 100 --rate 10 --seconds 60 --soak-seconds 1800 --wave 1000 --qps 50
  run flips-10k bed node "$DIST/bench/decider-flips.js" --gameservers 10000 --agents 1000 --rate 100 --seconds 60 --soak-seconds 120 --qps 500 --phases steady,soak,restart
  run failover bed node "$DIST/bench/leader-failover.js" --gameservers 1000 --rounds 5
  run vs-okg okgbed node "$DIST/bench/vs-okg.js" --gameservers 100 --steady-seconds 60
else
  run ingest node "$DIST/bench/ingest-throughput.js" --quick
  run agent bed node "$DIST/bench/agent-probes.js" --seconds 15
  run flips-1k bed node "$DIST/bench/decider-flips.js" --gameservers 1000 --agents 100 --rate 10 --seconds 30 --soak-seconds 60 --wave 1000 --qps 50
  run flips-10k bed node "$DIST/bench/decider-flips.js" --gameservers 10000 --agents 1000 --rate 100 --seconds 20 --soak-seconds 30 --qps 500 --phases steady,soak,restart
  run failover bed node "$DIST/bench/leader-failover.js" --gameservers 200 --rounds 3
  run vs-okg okgbed node "$DIST/bench/vs-okg.js" --gameservers 20
fi
echo "results: $OUT"
exit $FAILED
