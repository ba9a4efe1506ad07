#!/bin/sh
# The `idle` probe: one player name per line in run/<replica>/players.
# Nobody there: prints "idle", exits 0. Otherwise prints "<n> players", exits 1.
players=${EXAMPLE_RUN_DIR:-$(cd "$(dirname "$0")" && pwd)/run}/${POD_NAME:?POD_NAME is not set}/players
count=0
[ -f "$players" ] && count=$(grep -c . "$players")
if [ "$count" -eq 0 ]; then
  echo idle
  exit 0
fi
echo "$count players"
exit 1
