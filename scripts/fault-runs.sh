#!/usr/bin/env bash
# Runs a series of seeded fault runs (docs/chaos.md) and prints one line per
# run: seed, durability, seconds, verdict, faults applied, convergence time.
#
#   sudo scripts/fault-runs.sh FIRST_SEED COUNT SECONDS [extra kvorum-chaos run options]
#
# Durability alternates between process (odd seeds) and fsync (even seeds).
# Each run's history, node data and logs stay in $OUT/seed-N (default
# ./kvorum-fault-runs). CHAOS names the kvorum-chaos binary to use (default:
# a fresh debug build; the kvorum beside it is the node). Exit status:
# non-zero if any run failed.
set -uo pipefail
cd "$(dirname "$0")/.."
first=${1:?first seed}
count=${2:?number of runs}
seconds=${3:?seconds per run}
shift 3
out=${OUT:-kvorum-fault-runs}
case "$out" in /*) ;; *) out="$PWD/$out" ;; esac
if [ -z "${CHAOS:-}" ]; then
    swift build --product kvorum >/dev/null && swift build --product kvorum-chaos >/dev/null || exit 2
fi
chaos=${CHAOS:-.build/debug/kvorum-chaos}
failed=0
for ((seed = first; seed < first + count; seed++)); do
    durability=$([ $((seed % 2)) -eq 1 ] && echo process || echo fsync)
    dir="$out/seed-$seed"
    rm -rf "$dir"
    mkdir -p "$dir"
    start=$(date +%s)
    "$chaos" run --seed "$seed" --seconds "$seconds" --durability "$durability" \
        --work-dir "$dir" "$@" >"$dir/report.txt" 2>&1
    status=$?
    wall=$(($(date +%s) - start))
    verdict=$([ $status -eq 0 ] && echo PASS || echo "FAIL($status)")
    [ $status -eq 0 ] || failed=1
    faults=$(sed -n 's/.*faults applied: //p' "$dir/report.txt")
    converged=$(sed -n 's/.*replicas \(.*\) after the final heal/\1/p; s/.*replicas did NOT converge.*/NOT converged/p' "$dir/report.txt")
    echo "seed $seed  $durability  ${seconds}s (wall ${wall}s)  $verdict  converged: $converged  faults: $faults"
done
exit $failed
