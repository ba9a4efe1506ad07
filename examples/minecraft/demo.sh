#!/bin/sh
# The whole demo in one command: starts the fake game servers of minecraft-0..2, runs
# `okg-sq local` on them until Ctrl-C (extra arguments go to okg-sq local, e.g. --output json),
# then stops the fake servers again. Break things from a second terminal with ./ctl.sh.
#   OKGSQ  the okg-sq command to run (default: node <repo>/dist/cli/main.js, after `npm run build`)
set -u
here=$(cd "$(dirname "$0")" && pwd)
okgsq=${OKGSQ:-node $here/../../dist/cli/main.js}

cleanup() { "$here/ctl.sh" stop-all >/dev/null; }
trap cleanup EXIT
trap 'exit 130' INT TERM

"$here/ctl.sh" start minecraft-0 minecraft-1 minecraft-2 >/dev/null || exit 1
echo "fake servers running; try: $here/ctl.sh kill-gate minecraft-0" >&2
# Not exec: the EXIT trap must run after okg-sq local ends.
$okgsq local "$here/gameserverset.yaml" --replicas 3 "$@"
