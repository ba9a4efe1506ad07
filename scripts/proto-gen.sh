#!/usr/bin/env bash
# Generates proto/gen/ from proto/ with ts-proto for grpc-js, in two protoc invocations:
#  - okgsq/v1 (our own API) with forceLong=number: its int64s are counts and Unix ms, far below 2^53;
#  - cri/runtime/v1 (the CRI subset) with forceLong=bigint: the runtime's timestamps are Unix
#    nanoseconds (~1.8e18, above 2^53), which forceLong=number refuses to decode.
# --check regenerates both into a temp dir and fails if the committed code differs.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v protoc >/dev/null; then
  echo "proto-gen: protoc not found; install Debian's protobuf-compiler (apt-get install -y protobuf-compiler)" >&2
  exit 1
fi

out=proto/gen
if [ "${1:-}" = "--check" ]; then
  out=$(mktemp -d)
  trap 'rm -rf "$out"' EXIT
fi

common_opts=outputServices=grpc-js,esModuleInterop=true,importSuffix=.js,useDate=false,env=node,oneof=unions-value,useOptionals=none

gen() { # gen <forceLong> <proto file>…
  local long=$1
  shift
  protoc \
    --plugin=protoc-gen-ts_proto=node_modules/.bin/protoc-gen-ts_proto \
    --ts_proto_out="$out" \
    --ts_proto_opt="$common_opts,forceLong=$long" \
    -I proto \
    "$@"
}

mkdir -p "$out"
gen number proto/okgsq/v1/agent.proto
gen bigint proto/cri/runtime/v1/api.proto

if [ "${1:-}" = "--check" ]; then
  if ! diff -r proto/gen "$out" >/dev/null; then
    echo "proto-gen: proto/gen is stale; run npm run proto:gen and commit the result" >&2
    diff -r proto/gen "$out" | head -40 >&2
    exit 1
  fi
  echo "proto-gen: proto/gen is up to date"
fi
