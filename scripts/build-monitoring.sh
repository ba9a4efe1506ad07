#!/usr/bin/env bash
# Builds the monitoring stack of the chart's Prometheus Operator test (test/chart/prometheus-operator.test.ts)
# once into the bed's cache, from Go modules at the versions of scripts/versions.env: the Prometheus Operator
# (and its CRDs, kept beside it) and a Prometheus with Kubernetes service discovery (Debian's prometheus is
# built without it). Prints prometheus-operator=PATH, prometheus-operator-crds=DIR, prometheus=PATH.
# The first build downloads their modules and takes several minutes on 2 cores.
# Environment: OKGSQ_CACHE (default ~/.cache/okg-sq).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=versions.env
. "$repo/scripts/versions.env"

cache=${OKGSQ_CACHE:-$HOME/.cache/okg-sq}
mkdir -p "$cache/bin" "$cache/crds"
log() { echo "build-monitoring: $*" >&2; }

# Builds package $4 of module $2@$3 as $cache/bin/$1-$3, in a writable copy of the module: `go install
# mod@v` refuses modules whose go.mod has replace directives (both of these have some), and in a copy they
# apply. Replaces that point at folders the module zip leaves out (nested modules, such as the operator's
# ./pkg/apis/monitoring) are dropped: those modules then come from the proxy at the versions go.mod
# requires, the same release. $5: a folder of the module to keep under $cache/crds/$1-$3 (optional).
# $6: extra -ldflags. $7: a function run in the copy before the build (optional). One build per output at
# a time (flock); outputs are written atomically.
build_module_copy() { # name module version package [keep_dir] [ldflags] [prepare]
  local name=$1 module=$2 version=$3 pkg=$4 keep=${5:-} ldflags=${6:-} prepare=${7:-}
  local out="$cache/bin/$name-$version" kept="$cache/crds/$name-$version"
  (
    exec 9>"$cache/bin/.build-$name-$version.lock"
    flock 9
    if [ -x "$out" ] && { [ -z "$keep" ] || [ -f "$kept/.complete" ]; }; then exit 0; fi
    command -v go >/dev/null || { log "missing prerequisite: go >= 1.24"; exit 1; }
    log "building $name from $module@$version (first time: downloads modules, takes minutes)"
    local start=$SECONDS dir tmp mod target
    dir=$(cd / && GOFLAGS=-mod=mod go mod download -json "$module@$version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
    [ -n "$dir" ] || { log "go mod download $module@$version did not report a directory"; exit 1; }
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    cp -R "$dir/." "$tmp/"
    chmod -R u+w "$tmp"
    while read -r mod target; do
      [ -f "$tmp/$target/go.mod" ] || (cd "$tmp" && go mod edit -dropreplace="$mod")
    done < <(sed -nE 's/^[[:space:]]*(replace[[:space:]]+)?([^[:space:]]+)[[:space:]]+=>[[:space:]]+(\.\.?\/[^[:space:]]*).*$/\2 \3/p' "$tmp/go.mod")
    if [ -n "$prepare" ]; then (cd "$tmp" && "$prepare"); fi
    (cd "$tmp" && CGO_ENABLED=0 GOFLAGS="-mod=mod -buildvcs=false" go build -p 2 -trimpath -ldflags "-s -w $ldflags" -o "$out.tmp" "$pkg")
    if [ -n "$keep" ]; then
      rm -rf "$kept.tmp"
      cp -R "$tmp/$keep" "$kept.tmp"
      touch "$kept.tmp/.complete"
      rm -rf "$kept"
      mv "$kept.tmp" "$kept"
    fi
    mv "$out.tmp" "$out"
    log "built $out in $((SECONDS - start)) s"
  )
}

build_module_copy prometheus-operator github.com/prometheus-operator/prometheus-operator "$PROMETHEUS_OPERATOR_VERSION" ./cmd/operator example/prometheus-operator-crd
echo "prometheus-operator=$cache/bin/prometheus-operator-$PROMETHEUS_OPERATOR_VERSION"
echo "prometheus-operator-crds=$cache/crds/prometheus-operator-$PROMETHEUS_OPERATOR_VERSION"

# Prometheus registers its service discoveries in plugins/plugins.go, which its Makefile generates from
# plugins.yml. The test needs only Kubernetes discovery (file and http are always in): generating the list
# with that one entry leaves out the cloud providers' SDKs, most of a cold build's downloads and CPU.
kubernetes_discovery_only() {
  cat >plugins/plugins.go <<'GO'
// Written by okg-sq's scripts/build-monitoring.sh in place of the generated list: Kubernetes discovery only.
package plugins

import _ "github.com/prometheus/prometheus/discovery/kubernetes"
GO
}

# Module v0.3MM.P is Prometheus 3.MM.P: its --version (and so the version the operator generates for) says so.
minor=${PROMETHEUS_MODULE_VERSION#v0.3}; patch=${minor#*.}; minor=${minor%%.*}
build_module_copy prometheus-k8s-sd github.com/prometheus/prometheus "$PROMETHEUS_MODULE_VERSION" ./cmd/prometheus "" \
  "-X github.com/prometheus/common/version.Version=3.$((10#$minor)).$patch" kubernetes_discovery_only
echo "prometheus=$cache/bin/prometheus-k8s-sd-$PROMETHEUS_MODULE_VERSION"
