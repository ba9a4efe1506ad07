#!/usr/bin/env bash
# The README's test command (npm test): build, check generated code, lint (lost promises, module boundaries), then run every
# test tier with node:test. The integration and e2e tiers need the test bed (kube-apiserver + etcd,
# containerd + CNI, Prometheus, helm): the whole run goes under test/testbed/cli.js `run`, which installs
# missing Debian packages (as root), builds or reuses the Go binaries, starts the bed, runs the tests with
# OKGSQ_TB_* set, tears the bed down and exits with the tests' code, so one summary counts every tier.
# Then the cluster tier under a cluster bed (cli.js run --cluster --install), and the cluster bed's
# teardown test; the OKG tier on cluster beds with OpenKruiseGame's stack; the script fails if any run failed.
# `npm run test:unit` runs only the unit tier (no test bed).
set -euo pipefail
cd "$(dirname "$0")/.."
tier=${1:-all}

npm run --silent build
bash scripts/proto-gen.sh --check
# Type-aware lint (lost promises) and the module boundaries (scripts/eslint/module-boundaries.mjs).
npx eslint --max-warnings 0 .

if [ "$tier" = unit ]; then
  exec node --test dist/test/unit
fi

dirs=()
for dir in dist/test/unit dist/test/integration dist/test/chart dist/test/e2e dist/test/bad-input dist/test/fault dist/test/images; do
  [ -d "$dir" ] && dirs+=("$dir")
done

# The container images (npm run images) build in the background while the bed builds its Go binaries:
# image builds are mostly downloads and disk I/O, the Go builds CPU. Tests that need the images wait for
# this build on the images cache's lock, then reuse its result (cached by content: a warm run takes ~1 s),
# so it is not waited for here; its output goes to dist/images-build.log.
bash scripts/install-prereqs.sh
node dist/test/testbed/image-build/cli.js images >dist/images-build.log 2>&1 &

# One test file at a time: the tiers share one bed and two cores.
status=0
node dist/test/testbed/cli.js run -- node --test --test-concurrency=1 "${dirs[@]}" || status=$?

# The cluster tier, after the plain tiers: a real kubelet cluster (cli.js run --cluster --install: the
# images built above, `helm install` of charts/okg-sq) running the agent and decider as pods.
# helm-lifecycle uninstalls the chart, so it runs last.
cluster_tests=()
for file in dist/test/cluster-tier/*.test.js; do
  [ "$file" = dist/test/cluster-tier/helm-lifecycle.test.js ] || cluster_tests+=("$file")
done
cluster_tests+=(dist/test/cluster-tier/helm-lifecycle.test.js)
node dist/test/testbed/cli.js run --cluster --install -- node --test --test-concurrency=1 "${cluster_tests[@]}" || status=$?
# Beside OpenKruiseGame's own controllers (--okg): OKG's chain alone and the migration off it (kruise-daemon
# probing on; migration last: it installs okg-sq), then okg-sq beside OKG (--install: probing off).
okg=dist/test/okg-tier
node dist/test/testbed/cli.js run --cluster --okg -- node --test --test-concurrency=1 \
  "$okg/gameserverset.test.js" "$okg/incumbent.test.js" "$okg/migration.test.js" || status=$?
node dist/test/testbed/cli.js run --cluster --okg --install -- node --test --test-concurrency=1 "$okg/coexistence.test.js" || status=$?
# Then, outside any bed: a cluster bed of its own leaves the host as it found it.
node --test --test-concurrency=1 dist/test/cluster-teardown || status=$?
exit "$status"
