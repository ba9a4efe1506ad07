#!/usr/bin/env bash
# Builds okg-sq's OKG oracle: kruise-game's released module from the Go module proxy, with
# okgsq_oracle_test.go added to pkg/controllers/gameserver, compiled as a test binary by the Go toolchain
# the release is built with. Cached under ${OKGSQ_CACHE:-~/.cache/okg-sq}/okg-oracle, keyed by the
# versions and a hash of the oracle's source; prints the binary's path. Not run by npm test or CI (the
# goldens it produces are committed); see README.md here.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source=../../scripts/versions.env
. "$repo/scripts/versions.env"

command -v go >/dev/null || { echo "build-oracle: missing prerequisite: go (any version that can fetch toolchains: GOTOOLCHAIN=$KRUISE_GAME_GO_VERSION)" >&2; exit 1; }
cache=${OKGSQ_CACHE:-$HOME/.cache/okg-sq}/okg-oracle
mkdir -p "$cache"
key=$(cat "$here/okgsq_oracle_test.go" | sha256sum | cut -c1-16)
out="$cache/oracle-$KRUISE_GAME_VERSION-$KRUISE_GAME_GO_VERSION-$key"
log() { echo "build-oracle: $*" >&2; }

exec 9>"$cache/.build.lock"
flock 9
if [ -x "$out" ]; then log "reuse $out"; echo "$out"; exit 0; fi

export GOTOOLCHAIN=$KRUISE_GAME_GO_VERSION GOFLAGS="-mod=mod -buildvcs=false" CGO_ENABLED=0
mod_dir=$(cd "$cache" && go mod download -json "github.com/openkruise/kruise-game@$KRUISE_GAME_VERSION" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
[ -d "$mod_dir" ] || { echo "build-oracle: kruise-game $KRUISE_GAME_VERSION did not download" >&2; exit 1; }
work=$(mktemp -d "$cache/build.XXXXXX")
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
cp -r "$mod_dir/." "$work/"
chmod -R u+w "$work"
cp "$here/okgsq_oracle_test.go" "$work/pkg/controllers/gameserver/"
log "building with $(cd "$work" && go version) in $work (first time: downloads kruise-game's modules)"
start=$SECONDS
(cd "$work" && nice -n 10 go test -c -p 2 -trimpath -o "$out.tmp" ./pkg/controllers/gameserver/)
mv "$out.tmp" "$out"
log "built $out in $((SECONDS - start)) s"
echo "$out"
