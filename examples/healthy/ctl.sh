#!/bin/sh
# Breaks and repairs replicas of the healthy example:
#   ctl.sh break <replica> [reason]   the replica turns unhealthy (the GameServer goes Maintaining)
#   ctl.sh fix <replica>              it recovers                 (back to None)
#   ctl.sh status [<replica>...]      which replicas are broken, and why
# Replicas are named like the GameServers: demo-gs-0, demo-gs-1, ...
set -u
here=$(cd "$(dirname "$0")" && pwd)
run=${EXAMPLE_RUN_DIR:-$here/run}

usage() { sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

cmd=${1:-}
[ $# -gt 0 ] && shift
case $cmd in
  break)
    [ $# -ge 1 ] || usage
    mkdir -p "$run/$1"
    printf '%s\n' "${2:-disk full}" > "$run/$1/broken"
    echo "$1: broken (${2:-disk full})" ;;
  fix)
    [ $# -eq 1 ] || usage
    rm -f "$run/$1/broken"
    echo "$1: fixed" ;;
  status)
    if [ $# -eq 0 ] && [ -d "$run" ]; then set -- $(ls "$run"); fi
    for r in "$@"; do
      if [ -f "$run/$r/broken" ]; then echo "$r: broken: $(cat "$run/$r/broken")"; else echo "$r: healthy"; fi
    done ;;
  *) usage ;;
esac
