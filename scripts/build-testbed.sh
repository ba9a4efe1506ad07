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
# `crio` builds CRI-O for the plain bed's second runtime (cli.js run --runtime cri-o) inside a copy of the
# cri-o module: crio (cgo, build tags that need no C library beyond libc), pinns (C, gcc, static) and
# copyimg (its test tool that imports the bed's image archive into CRI-O's storage). conmon and runc are
# Debian packages (scripts/install-prereqs.sh). `all` leaves them out.
# `netpol` builds kube-router (go install of its module: no replace directives) for the cluster bed's
# --netpol, whose network-policy controller enforces NetworkPolicies. `all` leaves it out.
# Usage: build-testbed.sh [all|etcd|kube-apiserver|helm|okg-crds|cluster|kubectl|okg|crio|netpol]
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

export GOFLAGS="${GOFLAGS:-} -mod=mod -buildvcs=false"
export CGO_ENABLED=0

log() { echo "build-testbed: $*" >&2; }

# One build of each output at a time: a second run (a parallel test run, or test.sh's background lane)
# waits for the first one's result instead of rebuilding, while builds of other outputs go on beside it.
# Runs "$@" holding the lock named $1.
with_lock() { # lock_name command...
  local name=$1; shift
  (
    exec 9>"$bin_dir/.build-$name.lock"
    flock 9
    "$@"
  )
}

# The wrapper modules' sources (test/cluster/*) are ours and change: their outputs are named by the version
# and a hash of what goes into the build (the package's Go files, its module's go.mod and go.sum, the
# ldflags), so an edited wrapper is rebuilt on every machine, not only on a cold one.
source_key() { # module_dir ldflags
  local dir=$1 mod=$1
  [ -f "$mod/go.mod" ] || mod=$(dirname "$dir")
  { cat "$dir"/*.go "$mod/go.mod" "$mod/go.sum"; echo "$2"; } | sha256sum | cut -c1-12
}

build_module_unlocked() { # name version module_dir extra_ldflags
  local name=$1 version=$2 dir=$3 ldflags=$4
  local out
  out="$bin_dir/$name-$version-$(source_key "$dir" "$ldflags")"
  # A reuse marks the output as in use (its mtime), so the pruning below spares it.
  if [ -x "$out" ]; then touch "$out"; log "reuse $out"; echo "$name=$out"; return; fi
  log "building $name $version from $dir (first time: downloads modules, takes minutes)"
  local start=$SECONDS
  (cd "$dir" && go build -p 2 -trimpath -ldflags "-s -w $ldflags" -o "$out.tmp" .)
  mv "$out.tmp" "$out"
  # Outputs of other sources of this wrapper unused for a day go: an older checkout's, or a worktree's
  # beside this one, which may be waiting to run it right now, so nothing recent is removed.
  find "$bin_dir" -maxdepth 1 -type f \( -name "$name-$version" -o -name "$name-$version-*" \) ! -path "$out" -mmin +1440 -delete
  log "built $out in $((SECONDS - start)) s"
  echo "$name=$out"
}

build_install_unlocked() { # name version package
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
    exec 9>"$bin_dir/.build-okg-crds-$KRUISE_GAME_VERSION.lock"
    flock 9
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
module_copy() { with_lock "src-$1-$3" module_copy_unlocked "$@"; }
module_copy_unlocked() { # name module version
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

build_in_copy_unlocked() { # name version module_copy_dir package
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

# CRI-O's build tags: its Makefile's set less what needs a C library (gpgme: openpgp in Go instead; btrfs and
# devicemapper graph drivers; seccomp; apparmor and selinux, off here). cgo stays on (crio links libc for its
# user and mount lookups). Outputs are named by the version and a hash of the tags.
CRIO_BUILD_TAGS="containers_image_ostree_stub containers_image_openpgp exclude_graphdriver_btrfs btrfs_noversion exclude_graphdriver_devicemapper"
build_crio_unlocked() { # module_copy_dir
  local dir=$1 key
  key=$(printf '%s' "$CRIO_BUILD_TAGS" | sha256sum | cut -c1-8)
  local crio="$bin_dir/crio-$CRIO_VERSION-$key" pinns="$bin_dir/crio-pinns-$CRIO_VERSION-$key" copyimg="$bin_dir/crio-copyimg-$CRIO_VERSION-$key"
  if [ -x "$crio" ] && [ -x "$pinns" ] && [ -x "$copyimg" ]; then
    log "reuse $crio"
  else
    command -v gcc >/dev/null || { log "missing prerequisite: gcc (CRI-O's cgo and pinns; scripts/install-prereqs.sh)"; exit 1; }
    log "building CRI-O $CRIO_VERSION in $dir (first time: downloads modules, takes minutes)"
    local start=$SECONDS
    (cd "$dir" && CGO_ENABLED=1 go build -p 2 -trimpath -tags "$CRIO_BUILD_TAGS" -ldflags "-s -w" -o "$crio.tmp" ./cmd/crio)
    (cd "$dir" && CGO_ENABLED=1 go build -p 2 -trimpath -tags "$CRIO_BUILD_TAGS" -ldflags "-s -w" -o "$copyimg.tmp" ./test/copyimg)
    # pinns/Makefile's flags.
    (cd "$dir/pinns" && gcc -std=c99 -Os -Wall -Werror -Wextra -static -o "$pinns.tmp" src/*.c && strip -s "$pinns.tmp")
    mv "$crio.tmp" "$crio"
    mv "$copyimg.tmp" "$copyimg"
    mv "$pinns.tmp" "$pinns"
    log "built CRI-O in $((SECONDS - start)) s"
  fi
  echo "crio=$crio"
  echo "crio-pinns=$pinns"
  echo "crio-copyimg=$copyimg"
}

build_module() { with_lock "$1-$2" build_module_unlocked "$@"; }
build_install() { with_lock "$1-$2" build_install_unlocked "$@"; }
build_in_copy() { with_lock "$1-$2" build_in_copy_unlocked "$@"; }

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
if [ "$only" = kubectl ]; then
  # kubectl alone (the plain tier's kubectl plugin test), the same output as `cluster` builds.
  build_module kubectl "$KUBE_VERSION" "$repo/test/cluster/kube-node/kubectl" "$kube_ldflags"
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
if [ "$only" = netpol ]; then
  build_install kube-router "$KUBE_ROUTER_VERSION" github.com/cloudnativelabs/kube-router/v2/cmd/kube-router
fi
if [ "$only" = crio ]; then
  crio_src=$(module_copy cri-o github.com/cri-o/cri-o "$CRIO_VERSION")
  with_lock "crio-$CRIO_VERSION" build_crio_unlocked "$crio_src"
fi
