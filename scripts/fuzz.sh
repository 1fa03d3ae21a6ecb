#!/usr/bin/env bash
# Builds the libFuzzer targets (Fuzz/Package.swift) and runs each in turn.
#
#   scripts/fuzz.sh [--seconds N] [--no-build] [target…]
#
# N is the time for all the named targets together (default 30), shared
# equally; with no target named, every target runs. Each target starts from
# its seed corpus (Fuzz/corpus/<target>, in the repository) plus what earlier
# runs here found (Fuzz/.work/<target>, ignored by git), so longer or
# repeated runs build on each other. A crash or broken invariant stops the
# target, keeps the input as Fuzz/findings/<target>-crash-…, and makes the
# script fail after the remaining targets ran. --no-build runs the targets
# as last built. See docs/fuzzing.md.
set -euo pipefail
cd "$(dirname "$0")/.."

all_targets=(peer-frames peer-node stored-siblings stdio http-request binary-frames)
seconds=30
build=yes
targets=()
while [ $# -gt 0 ]; do
    case "$1" in
        --seconds) seconds="$2"; shift 2 ;;
        --no-build) build=no; shift ;;
        -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        -*) echo "fuzz.sh: unknown option $1" >&2; exit 2 ;;
        *) targets+=("$1"); shift ;;
    esac
done
[ ${#targets[@]} -gt 0 ] || targets=("${all_targets[@]}")
for target in "${targets[@]}"; do
    case " ${all_targets[*]} " in
        *" $target "*) ;;
        *) echo "fuzz.sh: unknown target '$target' (${all_targets[*]})" >&2; exit 2 ;;
    esac
done
per_target=$(( seconds / ${#targets[@]} ))
[ "$per_target" -ge 1 ] || per_target=1

if [ "$build" = yes ]; then
    echo "fuzz.sh: building the fuzz targets (release, -sanitize=fuzzer)"
    # Product by product: a plain `swift build` would also build every
    # target of the main package (a path dependency), NIO and crypto included.
    for target in "${targets[@]}"; do
        swift build --package-path Fuzz --scratch-path Fuzz/.build-fuzz -c release \
            -Xswiftc -sanitize=fuzzer -Xswiftc -parse-as-library --product "fuzz-$target"
    done
fi
bin="$(swift build --package-path Fuzz --scratch-path Fuzz/.build-fuzz -c release --show-bin-path)"

mkdir -p Fuzz/findings Fuzz/.work Fuzz/.logs
failed=()
for target in "${targets[@]}"; do
    work="Fuzz/.work/$target"
    log="Fuzz/.logs/$target.log"
    mkdir -p "$work"
    dict=()
    [ -f "Fuzz/dictionaries/$target.dict" ] && dict=(-dict="Fuzz/dictionaries/$target.dict")
    echo "fuzz.sh: $target for ${per_target}s (log: $log)"
    # The Swift runtime's backtracer would catch the crash before libFuzzer
    # can save the input.
    status=0
    SWIFT_BACKTRACE=enable=no "$bin/fuzz-$target" \
        -max_total_time="$per_target" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="Fuzz/findings/$target-" "${dict[@]}" \
        "$work" "Fuzz/corpus/$target" >"$log" 2>&1 || status=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
    last=$(grep -E '^#[0-9]+' "$log" | tail -1 || true)
    cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
    corp=$(sed -n 's/.* corp: \([0-9]*\/[0-9]*[a-zA-Z]*\).*/\1/p' <<<"$last")
    echo "fuzz.sh: $target: ${runs:-?} runs, ${speed:-?} execs/s, coverage ${cov:-?} edges, corpus ${corp:-?} (inputs/bytes)"
    if [ "$status" -ne 0 ]; then
        echo "fuzz.sh: $target FAILED (exit $status):" >&2
        grep -E 'Fatal error|ERROR: libFuzzer|Test unit written|^Base64' "$log" >&2 || tail -20 "$log" >&2
        failed+=("$target")
    fi
done
if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzz.sh: findings in: ${failed[*]} (inputs under Fuzz/findings/)" >&2
    exit 1
fi
