#!/bin/sh
# The `healthy` probe: the replica is broken while run/<replica>/broken exists; the file holds why.
# Healthy: exits 0 with no output. Broken: prints the reason, exits 1.
broken=${EXAMPLE_RUN_DIR:-$(cd "$(dirname "$0")" && pwd)/run}/${POD_NAME:?POD_NAME is not set}/broken
if [ -f "$broken" ]; then
  cat "$broken"
  exit 1
fi
exit 0
