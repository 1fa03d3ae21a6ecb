#!/usr/bin/env bash
# Regenerates docs/console.png: starts a live 3-node cluster (`kvorum cluster
# up` on free ports, in a temporary directory), sends it writes and reads,
# kills node3 with SIGKILL, and has scripts/browser.py take a 1280x800
# screenshot of node1's /ui once node3 shows down and 30 s of request rates show.
# Every wait is bounded; the cluster and the browser are stopped on exit.
#
#   scripts/console-screenshot.sh [OUT.png]     (default: docs/console.png)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-docs/console.png}

swift build --product kvorum >/dev/null
kvorum="$(swift build --show-bin-path)/kvorum"
dir=$(mktemp -d /tmp/kvorum-console-XXXXXX)
up_pid=""
traffic_pid=""
cleanup() {
    [ -n "$traffic_pid" ] && kill "$traffic_pid" 2>/dev/null || true
    if [ -n "$up_pid" ]; then
        kill "$up_pid" 2>/dev/null || true
        wait "$up_pid" 2>/dev/null || true
    fi
    rm -rf "$dir"
}
trap cleanup EXIT

"$kvorum" cluster up --data-dir "$dir" >"$dir/up.log" 2>&1 &
up_pid=$!

# The node's address and pid, from the cluster file `cluster up` writes.
node_field() {
    python3 -c 'import json,sys; n=[n for n in json.load(open(sys.argv[1]))["nodes"] if n["name"]==sys.argv[2]][0]; print(n[sys.argv[3]])' \
        "$dir/cluster.json" "$1" "$2"
}
for _ in $(seq 300); do
    if [ -f "$dir/cluster.json" ] && curl -sf "$(node_field node3 http)/health" >/dev/null 2>&1 \
        && [ "$(curl -s "$(node_field node1 http)/members" | grep -o '"name"' | wc -l)" = 3 ]; then
        break
    fi
    sleep 0.1
done
node1=$(node_field node1 http)
curl -sf "$node1/health" >/dev/null || { cat "$dir/up.log"; echo "the cluster did not start" >&2; exit 1; }

# A steady trickle of writes and reads through node1, so the rates show.
(
    i=0
    while true; do
        i=$((i + 1))
        curl -s -X PUT --data "value $i" "$node1/kv/demo-$((i % 50))" >/dev/null || true
        curl -s "$node1/kv/demo-$(((i * 7) % 50))" >/dev/null || true
        sleep 0.02
    done
) &
traffic_pid=$!
sleep 5
kill -9 "$(node_field node3 pid)"

python3 scripts/browser.py screenshot --url "$node1/ui" --out "$out" --timeout 90 --max-seconds 150 \
    --wait "document.querySelector('[data-member=\"node3\"]')?.dataset.state === 'down'
            && Number(document.querySelector('[data-request-rate]').dataset.value) > 0
            && document.querySelector('[data-rate-history] polyline').points.numberOfItems >= 30"
echo "wrote $out"
