#!/usr/bin/env bash
# The suite under load: a clean clone of HEAD runs `.ci/run` N times in a row while a CPU hog
# keeps every core busy. Each run's result, wall time and load average go to a table on stdout
# and to the clone's logs; the first failing run stops the series (exit 1).
#   usage: sudo bash scripts/ci-under-load.sh [RUNS=3] [WORKDIR=/var/tmp/lifeboat-ci-load]
set -euo pipefail
runs=${1:-3}
work=${2:-/var/tmp/lifeboat-ci-load}
src=$(cd "$(dirname "$0")/.." && pwd)
command -v stress-ng >/dev/null || { echo "installing: stress-ng"; apt-get install -y -qq stress-ng >/dev/null; }
rm -rf "$work" && mkdir -p "$work"
git clone -q "$src" "$work/clone"
commit=$(git -C "$work/clone" rev-parse --short HEAD)
cores=$(nproc)
stress-ng --cpu "$cores" --cpu-method all --quiet &
hog=$!
trap 'kill $hog 2>/dev/null || true; wait $hog 2>/dev/null || true' EXIT
echo "commit $commit · $runs runs · stress-ng --cpu $cores (pid $hog)"
printf '%-4s %-7s %-8s %-18s %s\n' run result wall 'load (1/5/15)' tests
for i in $(seq 1 "$runs"); do
  start=$(date +%s)
  if (cd "$work/clone" && CI=true bash .ci/run >"$work/run-$i.log" 2>&1); then result=passed; else result=FAILED; fi
  wall=$(( $(date +%s) - start ))
  load=$(cut -d' ' -f1-3 /proc/loadavg)
  tests=$(grep -aE '^[0-9]+ passed, [0-9]+ failed' "$work/run-$i.log" | tail -1 || true)
  printf '%-4s %-7s %-8s %-18s %s\n' "$i" "$result" "${wall}s" "$load" "$tests"
  [ "$result" = passed ] || { echo "run $i failed: $work/run-$i.log"; exit 1; }
done
