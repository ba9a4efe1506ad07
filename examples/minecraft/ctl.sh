#!/bin/sh
# Drives the fake game servers of the minecraft example:
#   ctl.sh start <replica>...      start the gate and data processes that are not running
#   ctl.sh kill-gate <replica>     stop the gate process  (the GameServer goes GateMaintaining)
#   ctl.sh kill-data <replica>     stop the data process  (the GameServer goes DataMaintaining)
#   ctl.sh stop <replica>...       stop both processes
#   ctl.sh stop-all                stop every replica's processes
#   ctl.sh status [<replica>...]   show which processes run (default: every replica started so far)
# Replicas are named like the GameServers: minecraft-0, minecraft-1, ...
set -u
here=$(cd "$(dirname "$0")" && pwd)
run=${EXAMPLE_RUN_DIR:-$here/run}
# How long start/kill wait for a process to come up or go away: 100 polls of 0.1 s.
MAX_POLLS=100

pid_of() { cat "$run/$1/$2.pid" 2>/dev/null; }

alive() {
  pid=$(pid_of "$1" "$2") || return 1
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  ! grep -q '^State:[[:space:]]*Z' "/proc/$pid/status" 2>/dev/null
}

wait_until() {
  polls=0
  while ! "$@"; do
    polls=$((polls + 1))
    [ "$polls" -ge "$MAX_POLLS" ] && return 1
    sleep 0.1
  done
}

not_alive() { ! alive "$1" "$2"; }

start_role() {
  if alive "$1" "$2"; then return 0; fi
  # Detached from our terminal and output, so ctl.sh returns at once.
  EXAMPLE_RUN_DIR=$run nohup /bin/sh "$here/fake-process.sh" "$2" "$1" >/dev/null 2>&1 &
  wait_until alive "$1" "$2" || { echo "ctl.sh: $1: $2 did not start" >&2; return 1; }
  echo "$1: $2 started (pid $(pid_of "$1" "$2"))"
}

stop_role() {
  if ! alive "$1" "$2"; then echo "$1: $2 is not running"; return 0; fi
  kill "$(pid_of "$1" "$2")"
  wait_until not_alive "$1" "$2" || { echo "ctl.sh: $1: $2 did not stop" >&2; return 1; }
  echo "$1: $2 stopped"
}

status() {
  for role in gate data; do
    if alive "$1" "$role"; then printf '%s: %s running (pid %s)\n' "$1" "$role" "$(pid_of "$1" "$role")"
    else printf '%s: %s down\n' "$1" "$role"; fi
  done
}

replicas_started() { [ -d "$run" ] && ls "$run"; }

usage() { sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

cmd=${1:-}
[ $# -gt 0 ] && shift
case $cmd in
  start)     [ $# -gt 0 ] || usage; for r in "$@"; do start_role "$r" gate && start_role "$r" data || exit 1; done ;;
  kill-gate) [ $# -eq 1 ] || usage; stop_role "$1" gate ;;
  kill-data) [ $# -eq 1 ] || usage; stop_role "$1" data ;;
  stop)      [ $# -gt 0 ] || usage; for r in "$@"; do stop_role "$r" gate; stop_role "$r" data; done ;;
  stop-all)  for r in $(replicas_started); do stop_role "$r" gate; stop_role "$r" data; done ;;
  status)    if [ $# -eq 0 ]; then set -- $(replicas_started); fi; for r in "$@"; do status "$r"; done ;;
  *)         usage ;;
esac
