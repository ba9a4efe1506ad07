#!/bin/sh
# Sets the opsState the http example's server answers with:
#   ctl.sh set <opsState>    e.g. Allocated, WaitToBeDeleted, None
#   ctl.sh status            what the server answers now
set -u
here=$(cd "$(dirname "$0")" && pwd)
run=${EXAMPLE_RUN_DIR:-$here/run}

case ${1:-} in
  set)
    [ $# -eq 2 ] || { echo "usage: ctl.sh set <opsState>" >&2; exit 2; }
    mkdir -p "$run"
    printf '%s\n' "$2" > "$run/opsstate.new" && mv "$run/opsstate.new" "$run/opsstate"
    echo "server now answers: $2" ;;
  status)
    if [ -f "$run/opsstate" ]; then cat "$run/opsstate"; else echo None; fi ;;
  *) sed -n '2,4p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
