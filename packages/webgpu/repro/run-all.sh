#!/usr/bin/env bash
# Runs every mode of dawn-crash.mjs REPEAT times in fresh processes and tallies exit codes.
# Usage: bash run-all.sh [REPEAT=5] [SCRIPT=dawn-crash.mjs]
here=$(cd "$(dirname "$0")" && pwd)
repeat=${1:-5}
script=${2:-$here/dawn-crash.mjs}
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-$(mktemp -d)}
for mode in careful destroy-inflight no-await leak-mapped exit-live gc-pressure worker two-workers; do
  codes=""
  for i in $(seq "$repeat"); do
    timeout 60 node --expose-gc "$script" "$mode" > /tmp/dawn-crash-$mode-$i.log 2>&1
    codes="$codes $?"
  done
  echo "$mode:$codes"
done
