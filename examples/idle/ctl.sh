#!/bin/sh
# Players for the idle example:
#   ctl.sh join <replica> <player>    a player joins   (the GameServer goes None)
#   ctl.sh leave <replica> <player>   a player leaves  (the last one out: WaitToBeDeleted)
#   ctl.sh status [<replica>...]      who plays where
# Replicas are named like the GameServers: lobby-0, lobby-1, ...
set -u
here=$(cd "$(dirname "$0")" && pwd)
run=${EXAMPLE_RUN_DIR:-$here/run}

usage() { sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

cmd=${1:-}
[ $# -gt 0 ] && shift
case $cmd in
  join)
    [ $# -eq 2 ] || usage
    mkdir -p "$run/$1"
    grep -qxF -- "$2" "$run/$1/players" 2>/dev/null || printf '%s\n' "$2" >> "$run/$1/players"
    echo "$1: $2 joined" ;;
  leave)
    [ $# -eq 2 ] || usage
    if [ -f "$run/$1/players" ]; then
      grep -vxF -- "$2" "$run/$1/players" > "$run/$1/players.new"
      mv "$run/$1/players.new" "$run/$1/players"
    fi
    echo "$1: $2 left" ;;
  status)
    if [ $# -eq 0 ] && [ -d "$run" ]; then set -- $(ls "$run"); fi
    for r in "$@"; do
      printf '%s: %s\n' "$r" "$(tr '\n' ' ' < "$run/$r/players" 2>/dev/null)"
    done ;;
  *) usage ;;
esac
