#!/usr/bin/env bash
# Runs every molecule scenario at once: each spends most of its time on real timers (drills, alerts, retention),
# not on the CPU, and each has a network, addresses and state of its own. Each writes to its own log in
# .state/molecule/; the end of each log is shown, and the whole log of a scenario that failed.
set -euo pipefail
cd "$(dirname "$0")/.."
logs=.state/molecule
mkdir -p "$logs"
scenarios=()
for file in molecule/*/molecule.yml; do
  scenarios+=("$(basename "$(dirname "$file")")")
done

declare -A pids started
for scenario in "${scenarios[@]}"; do
  started[$scenario]=$SECONDS
  molecule test -s "$scenario" >"$logs/$scenario.log" 2>&1 &
  pids[$scenario]=$!
  echo "molecule $scenario: started, log in $logs/$scenario.log"
done

failed=()
for scenario in "${scenarios[@]}"; do
  if wait "${pids[$scenario]}"; then
    outcome=passed
  else
    outcome=FAILED
    failed+=("$scenario")
  fi
  echo "molecule $scenario: $outcome after $(((SECONDS - ${started[$scenario]}) / 60)) min $(((SECONDS - ${started[$scenario]}) % 60)) s"
done

for scenario in "${scenarios[@]}"; do
  if [[ " ${failed[*]} " == *" $scenario "* ]]; then
    echo "===== molecule $scenario: the whole log ====="
    cat "$logs/$scenario.log"
  else
    echo "===== molecule $scenario: the end of its log ====="
    tail -n 60 "$logs/$scenario.log"
  fi
done
if ((${#failed[@]})); then
  echo "molecule: failed: ${failed[*]}" >&2
  exit 1
fi
