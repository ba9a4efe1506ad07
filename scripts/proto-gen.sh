#!/usr/bin/env bash
# Generates proto/gen/ from proto/ with ts-proto for grpc-js.
# --check regenerates into a temp dir and fails if the committed code differs.
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

mkdir -p "$out"
protoc \
  --plugin=protoc-gen-ts_proto=node_modules/.bin/protoc-gen-ts_proto \
  --ts_proto_out="$out" \
  --ts_proto_opt=outputServices=grpc-js,esModuleInterop=true,importSuffix=.js,forceLong=number,useDate=false,env=node,oneof=unions-value,useOptionals=none \
  -I proto \
  proto/okgsq/v1/agent.proto proto/cri/runtime/v1/api.proto

if [ "${1:-}" = "--check" ]; then
  if ! diff -r proto/gen "$out" >/dev/null; then
    echo "proto-gen: proto/gen is stale; run npm run proto:gen and commit the result" >&2
    diff -r proto/gen "$out" | head -40 >&2
    exit 1
  fi
  echo "proto-gen: proto/gen is up to date"
fi
