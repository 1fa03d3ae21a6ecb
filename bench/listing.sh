#!/usr/bin/env bash
# The cost of a key listing: starts a local cluster of NODES nodes (release
# build), loads RECORDS keys with `kvorum bench` (workload W's load phase),
# then lists every key with `kvorum keys` at page sizes 1000 and 10000 and
# prints, for each, the time, the keys listed and the peer frames the cluster
# sent meanwhile (the sum of kvorum_peer_frames_sent_total over the nodes,
# so a frame or two of background traffic is included). Not part of CI.
#
# Usage: bench/listing.sh [NODES] [RECORDS]   (defaults: 3 nodes, 100000 keys)
# Settings (environment): SCRATCH=.build (swift build --scratch-path)
set -euo pipefail
cd "$(dirname "$0")/.."

NODES=${1:-3}
RECORDS=${2:-100000}
SCRATCH=${SCRATCH:-.build}
BIN="$PWD/$SCRATCH/release/kvorum"

BENCH=listing
. bench/lib.sh

log "building kvorum (release)"
swift build -c release --product kvorum --scratch-path "$SCRATCH" >&2

WORK=$(mktemp -d)
"$BIN" cluster up --nodes "$NODES" --data-dir "$WORK/data" >"$WORK/cluster.log" 2>&1 &
CLUSTER=$!
cleanup() {
    kill -INT "$CLUSTER" 2>/dev/null || true
    wait "$CLUSTER" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

for _ in $(seq 150); do
    grep -q "Ctrl-C stops" "$WORK/cluster.log" && break
    kill -0 "$CLUSTER" 2>/dev/null || { cat "$WORK/cluster.log" >&2; exit 1; }
    sleep 0.2
done
URLS=$(awk '$1 ~ /^node[0-9]+$/ && $3 ~ /^http:/ { print $3 }' "$WORK/cluster.log")
[ -n "$URLS" ] || { cat "$WORK/cluster.log" >&2; exit 1; }
NODE_ARGS=()
for url in $URLS; do NODE_ARGS+=(--node "$url"); done
FIRST=$(echo "$URLS" | head -n 1)

frames() {
    for url in $URLS; do curl -s "$url/metrics" | awk '$1 == "kvorum_peer_frames_sent_total" { print $2 }'; done |
        awk '{ s += $1 } END { printf "%d\n", s }'
}

log "loading $RECORDS keys on $NODES nodes"
"$BIN" bench "${NODE_ARGS[@]}" --workload W --records "$RECORDS" --operations 1 --warmup 0 --concurrency 8 |
    grep '^load:' >&2
sleep 2

echo "| nodes | keys | page size | pages | seconds | keys listed | peer frames sent |"
echo "|---|---|---|---|---|---|---|"
for limit in 1000 10000; do
    before=$(frames)
    start=$(date +%s.%N)
    "$BIN" keys --node "$FIRST" --limit "$limit" --json >"$WORK/pages.json"
    end=$(date +%s.%N)
    after=$(frames)
    pages=$(wc -l <"$WORK/pages.json")
    listed=$(grep -o '"keys":\[[^]]*\]' "$WORK/pages.json" | grep -o '"user[0-9]*"' | wc -l)
    seconds=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", b - a }')
    echo "| $NODES | $RECORDS | $limit | $pages | $seconds | $listed | $((after - before)) |"
done
