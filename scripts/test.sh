#!/usr/bin/env bash
# The README's test command (npm test): build, check generated code, lint (lost promises, module boundaries), then run every
# test tier with node:test. The integration and e2e tiers need the test bed (kube-apiserver + etcd,
# containerd + CNI, Prometheus, helm): the whole run goes under test/testbed/cli.js `run`, which installs
# missing Debian packages (as root), builds or reuses the Go binaries, starts the bed, runs the tests with
# OKGSQ_TB_* set, tears the bed down and exits with the tests' code, so one summary counts every tier.
# Then the cluster tier under a cluster bed (cli.js run --cluster --install), and the cluster bed's
# teardown test; the OKG tier on cluster beds with OpenKruiseGame's stack; the cluster tier's NetworkPolicy
# test on a bed that enforces them (--netpol); the script fails if any run failed.
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
# Likewise the Go binaries only later runs need (CRI-O, the cluster bed's, OpenKruiseGame's, the monitoring stack's)
# build in the background at the lowest CPU priority, filling the cores the plain tiers leave idle. Each
# build holds its own output's lock, so a test or bed that needs one first waits for it instead of building
# it twice; warm, every step is a cache hit. Output: dist/prebuild.log.
bash scripts/build-testbed.sh all >/dev/null
(
  set +e # each step on its own: a failed one is built again, with its error, by whatever needs it
  nice -n 19 bash scripts/build-testbed.sh crio
  nice -n 19 bash scripts/build-testbed.sh cluster
  nice -n 19 bash scripts/build-testbed.sh netpol
  nice -n 19 bash scripts/build-testbed.sh okg
  nice -n 19 bash scripts/build-monitoring.sh
) >dist/prebuild.log 2>&1 &

# One test file at a time: the tiers share one bed and two cores.
status=0
node dist/test/testbed/cli.js run -- node --test --test-concurrency=1 "${dirs[@]}" || status=$?
# The agent's CRI integration tests once more on a plain bed that runs CRI-O instead of containerd
# (test/testbed/crio.ts; the chart's agent.criSocket.runtime=cri-o).
bash scripts/build-testbed.sh crio >/dev/null
node dist/test/testbed/cli.js run --runtime cri-o -- node --test --test-concurrency=1 \
  dist/test/integration/agent/cri-exec.test.js dist/test/integration/agent/container-down.test.js \
  dist/test/integration/agent/agent-process.test.js dist/test/integration/testbed/cri-wire.test.js \
  dist/test/integration/testbed/cri-pods.test.js || status=$?

# The cluster tier, after the plain tiers: a real kubelet cluster (cli.js run --cluster --install: the
# images built above, `helm install` of charts/okg-sq) running the agent and decider as pods.
# helm-lifecycle uninstalls the chart, so it runs last: in a second `node --test` on the same bed, since
# node --test runs the files it is given in sorted order, not in the order given.
# network-policy runs on a bed of its own, which enforces NetworkPolicies (--netpol: kube-router).
last=dist/test/cluster-tier/helm-lifecycle.test.js
netpol=dist/test/cluster-tier/network-policy.test.js
cluster_tests=()
for file in dist/test/cluster-tier/*.test.js; do
  [ "$file" = "$last" ] || [ "$file" = "$netpol" ] || cluster_tests+=("$file")
done
# shellcheck disable=SC2016 # expanded by the inner bash
node dist/test/testbed/cli.js run --cluster --install -- bash -c \
  'node --test --test-concurrency=1 "${@:2}"; first=$?; node --test --test-concurrency=1 "$1" && exit "$first"' \
  cluster-tier "$last" "${cluster_tests[@]}" || status=$?
# Beside OpenKruiseGame's own controllers (--okg): OKG's chain alone, then the migration off it (kruise-daemon
# probing on; the migration installs okg-sq, so it runs last, in its own `node --test`), then okg-sq beside
# OKG (--install: probing off).
okg=dist/test/okg-tier
# shellcheck disable=SC2016 # expanded by the inner bash
node dist/test/testbed/cli.js run --cluster --okg -- bash -c \
  'node --test --test-concurrency=1 "${@:2}"; first=$?; node --test --test-concurrency=1 "$1" && exit "$first"' \
  okg-tier "$okg/migration.test.js" "$okg/gameserverset.test.js" "$okg/incumbent.test.js" || status=$?
node dist/test/testbed/cli.js run --cluster --okg --install -- node --test --test-concurrency=1 "$okg/coexistence.test.js" "$okg/operations.test.js" || status=$?
# The cluster tier's NetworkPolicy test, on a bed that enforces them (--netpol: kube-router; docs/design.md §32).
node dist/test/testbed/cli.js run --cluster --install --netpol -- node --test --test-concurrency=1 "$netpol" || status=$?
# Then, outside any bed: a cluster bed of its own leaves the host as it found it.
node --test --test-concurrency=1 dist/test/cluster-teardown || status=$?
exit "$status"
