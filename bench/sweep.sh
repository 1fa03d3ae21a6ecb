#!/usr/bin/env bash
# How Kvorum scales with the number of records (issue 15, part 6). For each
# record count, on a fresh 3-node cluster (`kvorum cluster up`, N=3, R=W=2):
# load the records and measure W at 16 connections (one `kvorum bench` run),
# measure C at 16 connections, read each node's RSS from /proc, stop the
# cluster, measure its three data directories, start it again on the same
# data and time until a quorum GET of a loaded key answers 200; then kill -9
# every node and time the same restart after the crash. Prints one
# table row per record count (bench/tables.py sweep) and writes the table with
# the machine's facts, the commit and the command to
# bench/results/DATE-sweep-COMMIT.md. Not part of CI.
#
# Usage: bench/sweep.sh [--records 100000,1000000,3000000]
# Settings (environment): DURATION=10 WARMUP=2 VALUE_SIZE=100
#   DURABILITY=process (Kvorum's --durability) SCRATCH=.build (swift build --scratch-path)
#   BUILD=1 (0: use the existing SCRATCH/release/kvorum as it is)
#   OUT=bench/results/DATE-sweep-COMMIT.md
# A 1,000,000-record load takes minutes; 3,000,000 most of an hour on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
COMMAND="bench/sweep.sh $*"

RECORD_COUNTS=100000,1000000
while [ $# -gt 0 ]; do
    case $1 in
        --records) RECORD_COUNTS=$2; shift 2 ;;
        --records=*) RECORD_COUNTS=${1#--records=}; shift ;;
        *) echo "usage: bench/sweep.sh [--records N,N,...]" >&2; exit 2 ;;
    esac
done
[[ $RECORD_COUNTS =~ ^[0-9]+(,[0-9]+)*$ ]] || { echo "--records takes counts separated by commas" >&2; exit 2; }

DURATION=${DURATION:-10}
WARMUP=${WARMUP:-2}
VALUE_SIZE=${VALUE_SIZE:-100}
DURABILITY=${DURABILITY:-process}
SCRATCH=${SCRATCH:-.build}
BUILD=${BUILD:-1}
BIN="$SCRATCH/release/kvorum"
COMMIT=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
DIRTY=""
[ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ] && DIRTY=" plus uncommitted changes"
OUT=${OUT:-bench/results/$(date -u +%Y-%m-%d)-sweep-$COMMIT.md}

BENCH=sweep
. bench/lib.sh

if [ "$BUILD" = 1 ]; then
    log "building Kvorum (release, scratch path $SCRATCH)"
    swift build -c release --product kvorum --scratch-path "$SCRATCH" >&2
fi
[ -x "$BIN" ] || { log "no $BIN: build it (BUILD=1)"; exit 1; }

WORK=$(mktemp -d /tmp/kvorum-sweep.XXXXXX)
SUPERVISOR=""
stop_cluster() { # DATA-DIR: stops the running cluster (cluster down waits for it)
    [ -n "$SUPERVISOR" ] || return 0
    "$BIN" cluster down --data-dir "$1" >&2 || true
    wait "$SUPERVISOR" 2>/dev/null || true
    SUPERVISOR=""
}
start_cluster() { # DATA-DIR LOG
    "$BIN" cluster up --data-dir "$1" --durability "$DURABILITY" >"$2" 2>&1 &
    SUPERVISOR=$!
}
cleanup() {
    [ -z "$SUPERVISOR" ] || kill -TERM "$SUPERVISOR" 2>/dev/null || true
    [ -z "$SUPERVISOR" ] || wait "$SUPERVISOR" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# timed_restart DATA-DIR LOG KEY: starts the cluster on DATA-DIR and sets
# RESTARTED to the seconds until a quorum GET of KEY answers (null if not
# within 300 s).
timed_restart() {
    local started url deadline=$((SECONDS + 300))
    started=$(now)
    start_cluster "$1" "$2"
    RESTARTED=null
    while [ $SECONDS -lt $deadline ]; do
        url=$(node_field "$1" http 2>/dev/null | head -1 || true)
        if [ -n "$url" ] && curl -sf -o /dev/null --max-time 2 "$url/kv/$3?r=2"; then
            RESTARTED=$(python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.3f}')" "$started" "$(now)")
            return
        fi
        sleep 0.05
    done
}
node_field() { # DATA-DIR FIELD: the nodes' FIELD from cluster.json, one a line
    python3 -c 'import json,sys; [print(n[sys.argv[2]]) for n in json.load(open(sys.argv[1]))["nodes"]]' \
        "$1/cluster.json" "$2"
}

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
DIRS=()
IFS=, read -r -a COUNTS <<<"$RECORD_COUNTS"
for records in "${COUNTS[@]}"; do
    data="$WORK/kvorum-$records" out="$WORK/$records"
    mkdir -p "$out"
    log "$records records: starting a fresh 3-node cluster (durability $DURABILITY)"
    start_cluster "$data" "$WORK/up-$records.log"
    wait_for 60 "the cluster" grep -q "node(s) up" "$WORK/up-$records.log"
    urls=$(node_field "$data" http | paste -sd,)
    bench() { # WORKLOAD EXTRA-OPTIONS...
        local workload=$1
        shift
        "$BIN" bench --target kvorum --node "$urls" --r 2 --w 2 --workload "$workload" --concurrency 16 \
            --records "$records" --value-size "$VALUE_SIZE" --duration "$DURATION" --warmup "$WARMUP" --json "$@" \
            >"$out/$workload-16.json"
    }
    log "$records records: load, then W at 16 connections"
    bench W
    log "$records records: C at 16 connections"
    bench C --skip-load
    rss=()
    for pid in $(node_field "$data" pid); do rss+=("$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status")"); done
    log "$records records: stopping the cluster"
    stop_cluster "$data"
    disk=$(du -sb "$data"/node1 "$data"/node2 "$data"/node3 | awk '{sum += $1} END {print sum}')
    key=$(printf 'user%010d' $((records / 2)))
    log "$records records: restarting on the same data, timing until GET $key answers"
    timed_restart "$data" "$WORK/restart-$records.log" "$key"
    restart=$RESTARTED
    log "$records records: kill -9 of every node and the supervisor, then the same"
    for pid in $(node_field "$data" pid); do kill -KILL "$pid" 2>/dev/null || true; done
    kill -KILL "$SUPERVISOR" 2>/dev/null || true
    wait "$SUPERVISOR" 2>/dev/null || true
    SUPERVISOR=""
    for pid in $(node_field "$data" pid); do wait_for 30 "node $pid to die" bash -c "! kill -0 $pid 2>/dev/null"; done
    timed_restart "$data" "$WORK/crash-restart-$records.log" "$key"
    crash_restart=$RESTARTED
    stop_cluster "$data"
    python3 -c 'import json,sys; print(json.dumps({"rss_kib": [int(x) for x in sys.argv[1].split()], "disk_bytes": int(sys.argv[2]), "restart_seconds": json.loads(sys.argv[3]), "crash_restart_seconds": json.loads(sys.argv[4])}))' \
        "${rss[*]}" "$disk" "$restart" "$crash_restart" >"$out/facts.json"
    rm -rf "$data"
    DIRS+=("$out")
done

MEMORY=$(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)
{
    cat <<HEAD
# Kvorum: the record-count sweep

- date: $(date -u '+%Y-%m-%d %H:%M UTC'), commit $COMMIT$DIRTY
- command: \`$COMMAND\` (DURATION=$DURATION WARMUP=$WARMUP VALUE_SIZE=$VALUE_SIZE DURABILITY=$DURABILITY), $((SECONDS / 60)) min $((SECONDS % 60)) s wall
- machine: $(nproc) cores, $MEMORY, Linux $(uname -r); load average (1, 5, 15 min) $LOAD_BEFORE before, $(cut -d' ' -f1-3 /proc/loadavg) after; servers and client on loopback on this machine
- Kvorum: 3 nodes (\`kvorum cluster up\`, release build), N=3, R=W=2, durability \`$DURABILITY\`, $VALUE_SIZE-byte values, uniform keys, a fresh cluster per record count
- load: \`kvorum bench\` writes every record once over 16 connections; ops/s overall, then in the first and last tenth of the records
- W, C: 16 connections, ${DURATION} s measured after ${WARMUP} s warm-up; W runs right after the load, C after W
- RSS per node: VmRSS of the three node processes after the runs (smallest – largest); disk: the three nodes' data directories (SQLite files and node.log) after a clean stop (\`du -sb\`)
- restart: \`kvorum cluster down\`, then \`kvorum cluster up\` on the same data; seconds from the start until \`GET /kv/KEY?r=2\` of a loaded key answers 200 on node1; after kill -9: the same after \`kill -9\` of every node and of \`cluster up\`

HEAD
    python3 bench/tables.py sweep "${DIRS[@]}"
} | tee "$OUT"
log "written to $OUT"
