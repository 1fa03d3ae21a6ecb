#!/usr/bin/env bash
# HTTP against the binary client protocol (docs/binary-protocol.md): one
# 3-node cluster (N=3, R=W=2, `kvorum cluster up --binary-base-port B`)
# measured with the same load generator speaking each protocol in turn
# (`kvorum bench --protocol http|binary`, blocking sockets, one request at a
# time per connection), workloads W and C at 1 and 16 connections. The two
# protocols alternate which goes first, so neither always meets the other's
# leftovers. Prints one markdown table. Not part of CI.
#
# Usage: bench/protocols.sh   (2 cores: about 2 minutes of runs, plus the release build)
# Settings (environment): DURATION=6 WARMUP=1 RECORDS=20000 VALUE_SIZE=100
#   DURABILITY=process SCRATCH=.build (swift build --scratch-path)
#   CONFIGURATION=release (debug: measure the debug build, when there is no
#   time for a release one; its absolute figures mean little)
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-6}
WARMUP=${WARMUP:-1}
RECORDS=${RECORDS:-20000}
VALUE_SIZE=${VALUE_SIZE:-100}
DURABILITY=${DURABILITY:-process}
SCRATCH=${SCRATCH:-.build}
CONFIGURATION=${CONFIGURATION:-release}
BIN="$SCRATCH/$CONFIGURATION/kvorum"

BENCH=protocols
. bench/lib.sh

log "building Kvorum ($CONFIGURATION, scratch path $SCRATCH)"
swift build -c "$CONFIGURATION" --scratch-path "$SCRATCH" --product kvorum >&2

WORK=$(mktemp -d /tmp/kvorum-protocols.XXXXXX)
CLUSTER_PID=""
stop_cluster() {
    [ -n "$CLUSTER_PID" ] || return 0
    stop_pid "$CLUSTER_PID" 200
    CLUSTER_PID=""
}
trap 'stop_cluster; rm -rf "$WORK"' EXIT
trap 'exit 130' INT TERM


BINARY_BASE=$(free_port_run 3)

log "starting a 3-node cluster (durability $DURABILITY, binary protocol on $BINARY_BASE..$((BINARY_BASE + 2)))"
"$BIN" cluster up --data-dir "$WORK/cluster" --durability "$DURABILITY" --binary-base-port "$BINARY_BASE" \
    >"$WORK/cluster.log" 2>&1 &
CLUSTER_PID=$!
wait_for 90 "the cluster" grep -q "node(s) up" "$WORK/cluster.log"
HTTP_NODES=$(python3 -c 'import json,sys; print(",".join(n["http"] for n in json.load(open(sys.argv[1]))["nodes"]))' \
    "$WORK/cluster/cluster.json")
BINARY_NODES="127.0.0.1:$BINARY_BASE,127.0.0.1:$((BINARY_BASE + 1)),127.0.0.1:$((BINARY_BASE + 2))"
LOAD_AVERAGE_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)

RESULTS="$WORK/results"
mkdir -p "$RESULTS"
run() { # PROTOCOL WORKLOAD CONNECTIONS LOAD(yes|no)
    local protocol=$1 workload=$2 c=$3 load=$4 nodes=$HTTP_NODES
    [ "$protocol" = binary ] && nodes=$BINARY_NODES
    local skip=(--skip-load)
    [ "$load" = yes ] && skip=()
    log "$protocol: workload $workload, $c connection(s)"
    "$BIN" bench --protocol "$protocol" --node "$nodes" --workload "$workload" --concurrency "$c" \
        --records "$RECORDS" --value-size "$VALUE_SIZE" --duration "$DURATION" --warmup "$WARMUP" "${skip[@]}" \
        --json >"$RESULTS/$protocol-$workload-$c.json"
}
run http W 16 yes
run binary W 16 no
run binary W 1 no
run http W 1 no
run http C 16 no
run binary C 16 no
run binary C 1 no
run http C 1 no
LOAD_AVERAGE_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
stop_cluster

cat <<HEAD
# HTTP and the binary protocol

- date: $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)
- build: $CONFIGURATION
- machine: $(nproc) cores, Linux $(uname -r); cluster and client on loopback on this machine; load average $LOAD_AVERAGE_BEFORE before the runs, $LOAD_AVERAGE_AFTER after
- settings: 3 nodes (\`kvorum cluster up --binary-base-port $BINARY_BASE\`), N=3, R=W=2, durability \`$DURABILITY\`, $RECORDS records of $VALUE_SIZE bytes, ${DURATION} s measured after ${WARMUP} s warm-up; connections spread over the three nodes
- http: \`kvorum bench --protocol http --node URL1,URL2,URL3\`; binary: \`kvorum bench --protocol binary --node 127.0.0.1:B,…\` (both on blocking sockets, one request in flight per connection)

HEAD
python3 bench/tables.py pair "$RESULTS" http HTTP binary binary
