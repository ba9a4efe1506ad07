#!/bin/sh
# The `healthy` probe of each replica (okg-sq local sets POD_NAME, as Kubernetes can).
# Prints "gate" and exits 0 when the gate process is down, prints "data" and exits 0 when the data
# process is down; exits 1 (state false, empty result) when both are running.
dir=${EXAMPLE_RUN_DIR:-$(cd "$(dirname "$0")" && pwd)/run}/${POD_NAME:?POD_NAME is not set}

alive() {
  pid=$(cat "$dir/$1.pid" 2>/dev/null) || return 1
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  # A killed process nobody has reaped yet (a zombie) is not running either.
  ! grep -q '^State:[[:space:]]*Z' "/proc/$pid/status" 2>/dev/null
}

for role in gate data; do
  if ! alive "$role"; then
    echo "$role"
    exit 0
  fi
done
exit 1
