#!/bin/sh
# One process of the fake game server: fake-process.sh <gate|data> <replica>, e.g. gate minecraft-0.
# It writes its pid to run/<replica>/<role>.pid, sleeps until stopped, and removes the pid file
# when stopped with kill (SIGTERM), so the probe sees it gone at once. Started by ctl.sh.
set -u
role=${1:?usage: fake-process.sh <gate|data> <replica>}
name=${2:?usage: fake-process.sh <gate|data> <replica>}
dir=${EXAMPLE_RUN_DIR:-$(cd "$(dirname "$0")" && pwd)/run}/$name
mkdir -p "$dir"
pidfile=$dir/$role.pid
echo $$ > "$pidfile"
child=
stop() {
  [ -n "$child" ] && kill "$child" 2>/dev/null
  # Only our own pid file: a restarted process may already have written its own.
  [ "$(cat "$pidfile" 2>/dev/null)" = "$$" ] && rm -f "$pidfile"
  exit 0
}
trap stop TERM INT HUP
sleep 2147483647 &
child=$!
wait "$child"
stop
