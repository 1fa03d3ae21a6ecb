#!/usr/bin/env bash
# The cost of TLS: the same 3-node cluster (N=3, R=W=2) measured twice with
# the same client, once plain (`kvorum cluster up`) and once with TLS on
# (`kvorum cluster up --secure`: mutual TLS between the nodes, HTTPS with a
# bearer token for the client). Both runs use `kvorum bench --transport
# channel` (SwiftNIO connections), the only client transport that speaks TLS,
# so the difference is TLS and authentication alone. Workloads W and C at 1
# and 16 connections. Prints one markdown table. Not part of CI.
#
# Usage: bench/tls.sh   (2 cores: about 2 minutes of runs, plus the release build)
# Settings (environment): DURATION=6 WARMUP=1 RECORDS=20000 VALUE_SIZE=100
#   DURABILITY=process SCRATCH=.build (swift build --scratch-path)
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-6}
WARMUP=${WARMUP:-1}
RECORDS=${RECORDS:-20000}
VALUE_SIZE=${VALUE_SIZE:-100}
DURABILITY=${DURABILITY:-process}
SCRATCH=${SCRATCH:-.build}
BIN="$SCRATCH/release/kvorum"

BENCH=tls
. bench/lib.sh

log "building Kvorum (release, scratch path $SCRATCH)"
swift build -c release --scratch-path "$SCRATCH" --product kvorum >&2

WORK=$(mktemp -d /tmp/kvorum-tls.XXXXXX)
CLUSTER_PID=""
stop_cluster() {
    [ -n "$CLUSTER_PID" ] || return 0
    stop_pid "$CLUSTER_PID" 200
    CLUSTER_PID=""
}
trap 'stop_cluster; rm -rf "$WORK"' EXIT
trap 'exit 130' INT TERM


RESULTS="$WORK/results"
mkdir -p "$RESULTS"
for mode in plain tls; do
    dir="$WORK/$mode"
    secure=()
    [ "$mode" = tls ] && secure=(--secure)
    log "starting a 3-node cluster ($mode, durability $DURABILITY)"
    "$BIN" cluster up --data-dir "$dir" --durability "$DURABILITY" "${secure[@]}" >"$WORK/$mode.log" 2>&1 &
    CLUSTER_PID=$!
    wait_for 90 "the $mode cluster" grep -q "node(s) up" "$WORK/$mode.log"
    urls=$(python3 -c 'import json,sys; print(",".join(n["http"] for n in json.load(open(sys.argv[1]))["nodes"]))' \
        "$dir/cluster.json")
    credentials=()
    if [ "$mode" = tls ]; then
        credentials=(--ca "$dir/certs/ca/ca.crt" --token "$(cat "$dir/certs/admin.token")")
    fi
    for run in "W 16 yes" "W 1 no" "C 16 no" "C 1 no"; do
        read -r workload c load <<<"$run"
        skip=(--skip-load)
        [ "$load" = yes ] && skip=()
        log "$mode: workload $workload, $c connection(s)"
        "$BIN" bench --node "$urls" --transport channel "${credentials[@]}" --workload "$workload" \
            --concurrency "$c" --records "$RECORDS" --value-size "$VALUE_SIZE" --duration "$DURATION" \
            --warmup "$WARMUP" "${skip[@]}" --json >"$RESULTS/$mode-$workload-$c.json"
    done
    stop_cluster
done

cat <<HEAD
# The cost of TLS

- date: $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)
- machine: $(nproc) cores, Linux $(uname -r); cluster and client on loopback on this machine
- settings: 3 nodes, N=3, R=W=2, durability \`$DURABILITY\`, $RECORDS records of $VALUE_SIZE bytes, ${DURATION} s measured after ${WARMUP} s warm-up; \`kvorum bench --transport channel\` both times
- plain: \`kvorum cluster up\` (TCP between nodes, HTTP); tls: \`kvorum cluster up --secure\` (mutual TLS 1.3 between nodes, HTTPS with a bearer token checked on every request)

HEAD
python3 bench/tables.py pair "$RESULTS" plain plain tls TLS
