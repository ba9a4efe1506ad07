#!/usr/bin/env bash
# Builds the test bed's Go binaries (kube-apiserver, etcd, helm) once into a cache outside the repo,
# keyed by version, and reuses them afterwards, and keeps OpenKruiseGame's own CRDs (game.kruise.io, from
# the kruise-game Go module's config/crd/bases) beside them. Prints each path on stdout as NAME=PATH.
# `cluster` builds what the bed's cluster mode adds (kubelet, kube-scheduler, kube-controller-manager,
# kube-proxy, kubectl from test/cluster/kube-node; CoreDNS from test/cluster/coredns); `all` leaves them out.
# `okg` builds OpenKruiseGame's stack for the cluster bed's --okg: kruise-game-manager (kruise-game module)
# and kruise-manager + kruise-daemon (kruise module), each inside a copy of its downloaded module
# ($cache/src/<module>-<version>, where the modules' replace directives apply; the bed also renders the
# copies' config/ manifests). `all` leaves them out.
# Usage: build-testbed.sh [all|etcd|kube-apiserver|helm|okg-crds|cluster|okg]
# The first build downloads ~1-2 GB of modules and takes many minutes on 2 cores.
# Environment: OKGSQ_CACHE (default ~/.cache/okg-sq).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)

# shellcheck source=versions.env
. "$repo/scripts/versions.env"

cache=${OKGSQ_CACHE:-$HOME/.cache/okg-sq}
bin_dir="$cache/bin"
mkdir -p "$bin_dir"
command -v go >/dev/null || { echo "build-testbed: missing prerequisite: go >= 1.24 (the Go toolchain builds kube-apiserver, etcd and helm)" >&2; exit 1; }
go_minor=$(go env GOVERSION | sed -n 's/^go1\.\([0-9]*\).*/\1/p')
if [ -z "$go_minor" ] || [ "$go_minor" -lt 24 ]; then
  echo "build-testbed: missing prerequisite: go >= 1.24 (found $(go env GOVERSION); Kubernetes $KUBE_VERSION needs it)" >&2
  exit 1
fi

# One build at a time per cache: parallel test runs wait for the first one instead of rebuilding.
exec 9>"$bin_dir/.build.lock"
flock 9

export GOFLAGS="${GOFLAGS:-} -mod=mod -buildvcs=false"
export CGO_ENABLED=0

log() { echo "build-testbed: $*" >&2; }

build_module() { # name version module_dir extra_ldflags
  local name=$1 version=$2 dir=$3 ldflags=$4
  local out="$bin_dir/$name-$version"
  if [ -x "$out" ]; then log "reuse $out"; echo "$name=$out"; return; fi
  log "building $name $version from $dir (first time: downloads modules, takes minutes)"
  local start=$SECONDS
  (cd "$dir" && go build -p 2 -trimpath -ldflags "-s -w $ldflags" -o "$out.tmp" .)
  mv "$out.tmp" "$out"
  log "built $out in $((SECONDS - start)) s"
  echo "$name=$out"
}

build_install() { # name version package
  local name=$1 version=$2 pkg=$3
  local out="$bin_dir/$name-$version"
  if [ -x "$out" ]; then log "reuse $out"; echo "$name=$out"; return; fi
  log "building $name $version (go install $pkg@$version)"
  local start=$SECONDS tmp
  tmp=$(mktemp -d)
  # go install pkg@version ignores the repo's go.mod: run it outside any module.
  (cd "$tmp" && GOFLAGS=-buildvcs=false GOBIN="$tmp" go install -p 2 -trimpath -ldflags "-s -w" "$pkg@$version")
  mv "$tmp/$name" "$out"
  rm -rf "$tmp"
  log "built $out in $((SECONDS - start)) s"
  echo "$name=$out"
}

# OKG's CRDs from the released kruise-game module (never committed): $cache/crds/kruise-game-<version>,
# written whole into a temporary folder and renamed, marked complete by a .complete file.
keep_okg_crds() {
  local out="$cache/crds/kruise-game-$KRUISE_GAME_VERSION"
  (
    exec 8>"$bin_dir/.build-okg-crds-$KRUISE_GAME_VERSION.lock"
    flock 8
    if [ -f "$out/.complete" ]; then exit 0; fi
    log "taking OKG's CRDs from github.com/openkruise/kruise-game@$KRUISE_GAME_VERSION (go mod download)"
    local dir
    dir=$(cd / && go mod download -json "github.com/openkruise/kruise-game@$KRUISE_GAME_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
    [ -d "$dir/config/crd/bases" ] || { log "go mod download of kruise-game $KRUISE_GAME_VERSION gave no config/crd/bases"; exit 1; }
    rm -rf "$out.tmp"
    mkdir -p "$out.tmp"
    cp "$dir"/config/crd/bases/game.kruise.io_*.yaml "$out.tmp/"
    chmod 644 "$out.tmp"/*.yaml
    touch "$out.tmp/.complete"
    rm -rf "$out"
    mv "$out.tmp" "$out"
  )
  echo "okg-crds=$out"
}

# A writable copy of a downloaded module under $cache/src/<name>-<version>, made whole in a temporary
# folder and renamed into place (go build inside it applies the module's own replace directives).
module_copy() { # name module version
  local name=$1 module=$2 version=$3
  local out="$cache/src/$name-$version"
  if [ -f "$out/go.mod" ]; then echo "$out"; return; fi
  log "copying $module@$version (go mod download) to $out"
  local dir
  dir=$(cd / && go mod download -json "$module@$version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [ -f "$dir/go.mod" ] || { log "go mod download of $module $version gave no module directory"; exit 1; }
  mkdir -p "$cache/src"
  rm -rf "$out.tmp"
  cp -r "$dir" "$out.tmp"
  chmod -R u+w "$out.tmp"
  mv "$out.tmp" "$out"
  echo "$out"
}

build_in_copy() { # name version module_copy_dir package
  local name=$1 version=$2 dir=$3 pkg=$4
  local out="$bin_dir/$name-$version"
  if [ -x "$out" ]; then log "reuse $out"; echo "$name=$out"; return; fi
  log "building $name $version ($pkg in $dir; first time: downloads modules, takes minutes)"
  local start=$SECONDS
  (cd "$dir" && go build -p 2 -trimpath -ldflags "-s -w" -o "$out.tmp" "$pkg")
  mv "$out.tmp" "$out"
  log "built $out in $((SECONDS - start)) s"
  echo "$name=$out"
}

only=${1:-all}
if [ "$only" = all ] || [ "$only" = etcd ]; then
  build_module etcd "$ETCD_VERSION" "$repo/test/cluster/etcd" ""
fi
minor=${KUBE_VERSION#v1.}; minor=${minor%%.*}
kube_ldflags="-X k8s.io/component-base/version.gitVersion=$KUBE_VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor -X k8s.io/component-base/version.gitTreeState=clean"
if [ "$only" = all ] || [ "$only" = kube-apiserver ]; then
  build_module kube-apiserver "$KUBE_VERSION" "$repo/test/cluster/kube-apiserver" "$kube_ldflags"
fi
if [ "$only" = cluster ]; then
  # Smallest first: a cold build of all of them takes ~7 min of CPU with the apiserver's build cache warm.
  for command in kube-scheduler kube-proxy kube-controller-manager kubelet kubectl; do
    build_module "$command" "$KUBE_VERSION" "$repo/test/cluster/kube-node/$command" "$kube_ldflags"
  done
  build_module coredns "$COREDNS_VERSION" "$repo/test/cluster/coredns" ""
fi
if [ "$only" = all ] || [ "$only" = helm ]; then
  build_install helm "$HELM_VERSION" helm.sh/helm/v3/cmd/helm
fi
if [ "$only" = all ] || [ "$only" = okg-crds ]; then
  keep_okg_crds
fi
if [ "$only" = okg ]; then
  kruise_game_src=$(module_copy kruise-game github.com/openkruise/kruise-game "$KRUISE_GAME_VERSION")
  kruise_src=$(module_copy kruise github.com/openkruise/kruise "$KRUISE_VERSION")
  build_in_copy kruise-game-manager "$KRUISE_GAME_VERSION" "$kruise_game_src" .
  build_in_copy kruise-manager "$KRUISE_VERSION" "$kruise_src" .
  build_in_copy kruise-daemon "$KRUISE_VERSION" "$kruise_src" ./cmd/daemon
  echo "kruise-game-src=$kruise_game_src"
  echo "kruise-src=$kruise_src"
fi
