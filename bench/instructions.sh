#!/usr/bin/env bash
# CPU instructions per quorum write (W) and per quorum read (C), at 1 and 16
# connections, summed over the three node processes of a local cluster
# (N=3, R=W=2), and the bytes the nodes write per acknowledged write
# (issue 15). Instruction counts, unlike ops/s, barely depend on what else the
# machine runs, so they tell a change's cost on a shared machine.
#
# How: three `kvorum node` processes (release build) on loopback; the records
# are loaded once; then, per workload and connection count, `kvorum bench
# --operations N` and `--operations 2N` (no warm-up) each run while the
# nodes' instructions are counted. The per-operation figure is the difference
# of the two counts over N, after each count has lost an idle baseline (the
# idle nodes' instructions per second, measured with no client, times the
# run's length): what both runs share (connecting, the unmeasured read of
# every record that gives W its contexts, the client's start) cancels out.
# Bytes: the same difference of the nodes' /proc/PID/io `write_bytes` (bytes
# sent towards the disk) and `wchar` (bytes passed to write calls), over N.
#
# Counters: `perf stat -e instructions` where the CPU exposes them; else
# (virtual machines without a PMU) every node runs under valgrind's callgrind,
# counted between `callgrind_control --zero` and `--dump` (exact, but the nodes
# run 50-100x slower, so N is smaller). COUNTER=perf|callgrind forces one.
# COUNTER=cpu counts the nodes' CPU time instead (user + system, from
# /proc/PID/stat, in microseconds): it works everywhere, but like any time it
# grows when the machine is busy, so compare two builds in alternating runs.
#
# Usage: bench/instructions.sh
# Settings (environment): REPEAT=3 (measurements of the whole set, for the spread)
#   N (operations of the shorter run; default 20000 with perf, 300 with callgrind)
#   RECORDS (default 10000 with perf, 500 with callgrind) VALUE_SIZE=100
#   DURABILITY=process IDLE=3 (seconds of the idle baseline) SCRATCH=.build BUILD=1
#   NODE_BIN=SCRATCH/release/kvorum (the nodes' binary: another build's, to
#     compare it; the client is always this checkout's)
#   OUT=bench/results/DATE-instructions-COMMIT.md (where the report goes, besides standard output)
#   PROTOCOL=http (the clients' protocol: http, or binary for the binary
#     client protocol, docs/binary-protocol.md; the nodes then also get --binary-listen)
#   PROFILES=DIR (callgrind: keep each counted run's profile of each node there,
#     as ROUND-WORKLOAD-CONNECTIONS-OPERATIONS.nodeI, for callgrind_annotate)
set -euo pipefail
cd "$(dirname "$0")/.."

REPEAT=${REPEAT:-3}
VALUE_SIZE=${VALUE_SIZE:-100}
DURABILITY=${DURABILITY:-process}
IDLE=${IDLE:-3}
SCRATCH=${SCRATCH:-.build}
BUILD=${BUILD:-1}
BIN="$SCRATCH/release/kvorum"
NODE_BIN=${NODE_BIN:-$BIN}
COMMIT=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
DIRTY=""
[ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ] && DIRTY=" plus uncommitted changes"
OUT=${OUT:-bench/results/$(date -u +%Y-%m-%d)-instructions-$COMMIT.md}
PROFILES=${PROFILES:-}
PROTOCOL=${PROTOCOL:-http}
case $PROTOCOL in http | binary) ;; *) echo "PROTOCOL must be http or binary" >&2; exit 2 ;; esac
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)

BENCH=instructions
. bench/lib.sh

perf_counts() { # whether perf can count instructions here
    command -v perf >/dev/null || return 1
    local first
    first=$(perf stat -e instructions -x, -- true 2>&1 >/dev/null | tail -1 | cut -d, -f1)
    [[ $first =~ ^[0-9]+$ ]]
}
if [ -z "${COUNTER:-}" ]; then
    if perf_counts; then
        COUNTER=perf
    elif command -v valgrind >/dev/null && command -v callgrind_control >/dev/null; then
        COUNTER=callgrind
        log "perf cannot count instructions here (no PMU, or perf_event_paranoid" \
            "$(cat /proc/sys/kernel/perf_event_paranoid 2>/dev/null)); counting with callgrind"
    else
        log "neither perf with an instructions counter nor valgrind: apt-get install linux-perf (or valgrind)"
        exit 1
    fi
fi
case $COUNTER in
    perf | cpu) N=${N:-20000} RECORDS=${RECORDS:-10000} ;;
    callgrind) N=${N:-300} RECORDS=${RECORDS:-500} ;;
    *) log "COUNTER must be perf, callgrind or cpu"; exit 2 ;;
esac
UNIT=instructions
[ "$COUNTER" = cpu ] && UNIT=cpu_us

if [ "$BUILD" = 1 ]; then
    log "building Kvorum (release, scratch path $SCRATCH)"
    swift build -c release --product kvorum --scratch-path "$SCRATCH" >&2
fi
[ -x "$BIN" ] || { log "no $BIN: build it (BUILD=1)"; exit 1; }
[ -x "$NODE_BIN" ] || { log "no $NODE_BIN (NODE_BIN)"; exit 1; }

WORK=$(mktemp -d /tmp/kvorum-instructions.XXXXXX)
[ -z "$PROFILES" ] || mkdir -p "$PROFILES"
NODE_PIDS=()
cleanup() {
    for pid in "${NODE_PIDS[@]}"; do stop_pid "$pid" 300; done
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM


# --- the cluster -----------------------------------------------------------------
# Under callgrind the nodes run a copy of NODE_BIN without its debug info
# (valgrind 3.19 cannot read the DWARF Swift 6.3 writes, "Possibly corrupted
# debuginfo file"; the symbol table stays, so profiles keep function names)
# with bench/valgrind-sigsuspend.c preloaded (dispatch_main's sigsuspend()
# crashes valgrind 3.19 otherwise; see that file).
RUN_BIN=$NODE_BIN
if [ "$COUNTER" = callgrind ]; then
    command -v cc >/dev/null || { log "callgrind needs a C compiler (apt-get install gcc) for its shim"; exit 1; }
    cc -shared -fPIC -O2 -o "$WORK/sigsuspend.so" bench/valgrind-sigsuspend.c
    RUN_BIN="$WORK/kvorum-nodebug"
    objcopy --strip-debug "$NODE_BIN" "$RUN_BIN"
fi
read -r P1 P2 P3 H1 H2 H3 B1 B2 B3 <<<"$(free_ports 9)"
URLS="http://127.0.0.1:$H1,http://127.0.0.1:$H2,http://127.0.0.1:$H3"
[ "$PROTOCOL" = binary ] && URLS="127.0.0.1:$B1,127.0.0.1:$B2,127.0.0.1:$B3"
log "starting 3 nodes (durability $DURABILITY, counted with $COUNTER)"
for i in 1 2 3; do
    p="P$i" h="H$i"
    arguments=(node --name "node$i" --listen "127.0.0.1:${!p}" --http "127.0.0.1:${!h}"
        --data-dir "$WORK/node$i" --durability "$DURABILITY")
    b="B$i"
    [ "$PROTOCOL" = binary ] && arguments+=(--binary-listen "127.0.0.1:${!b}")
    [ "$i" = 1 ] || arguments+=(--join "127.0.0.1:$P1")
    wrap=()
    [ "$COUNTER" = callgrind ] && wrap=(env "LD_PRELOAD=$WORK/sigsuspend.so"
        valgrind --tool=callgrind "--callgrind-out-file=$WORK/callgrind.node$i.%p")
    mkdir -p "$WORK/node$i"
    "${wrap[@]}" "$RUN_BIN" "${arguments[@]}" >"$WORK/node$i.log" 2>&1 &
    NODE_PIDS+=($!)
done
formed() { # every node ready and seeing all three
    local h
    for h in "$H1" "$H2" "$H3"; do
        curl -sf --max-time 5 "http://127.0.0.1:$h/ready" >/dev/null || return 1
        [ "$(curl -sf --max-time 5 "http://127.0.0.1:$h/members" | grep -oE '"node[123]"' | sort -u | wc -l)" = 3 ] ||
            return 1
    done
}
deadline=$((SECONDS + 600))
until formed; do
    [ $SECONDS -lt $deadline ] || { log "the nodes did not form a cluster; see $WORK/node*.log"; exit 1; }
    sleep 1
done
PIDS_CSV=$(IFS=,; echo "${NODE_PIDS[*]}")

bench() { # WORKLOAD CONNECTIONS OPERATIONS EXTRA-OPTIONS...
    local workload=$1 connections=$2 operations=$3
    shift 3
    "$BIN" bench --target kvorum --protocol "$PROTOCOL" --node "$URLS" --r 2 --w 2 --workload "$workload" --concurrency "$connections" \
        --records "$RECORDS" --value-size "$VALUE_SIZE" --operations "$operations" --warmup 0 --json "$@" \
        >"$WORK/last.json"
    python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); e=sum(r["errors"].values()); e and print(f"[instructions] {e} errors", file=sys.stderr)' \
        "$WORK/last.json"
}
log "loading $RECORDS records"
bench W 16 1

# --- counting --------------------------------------------------------------------
io_sum() { # the nodes' write_bytes and wchar, summed
    local pid write=0 wchar=0
    for pid in "${NODE_PIDS[@]}"; do
        write=$((write + $(awk '/^write_bytes:/ {print $2}' "/proc/$pid/io")))
        wchar=$((wchar + $(awk '/^wchar:/ {print $2}' "/proc/$pid/io")))
    done
    echo "$write $wchar"
}
cpu_us() { # the nodes' CPU time so far (user + system), in microseconds
    local pid ticks=0
    for pid in "${NODE_PIDS[@]}"; do
        ticks=$((ticks + $(awk '{print $14 + $15}' "/proc/$pid/stat")))
    done
    echo $((ticks * 1000000 / $(getconf CLK_TCK)))
}
# counted COMMAND...: runs COMMAND while counting the nodes' instructions (or
# CPU microseconds); prints "COUNT SECONDS WRITE_BYTES WCHAR" (seconds of
# counting, bytes written during it).
counted() {
    local started ended io_before io_after total=0 pid file controls=() cpu_before
    io_before=$(io_sum)
    if [ "$COUNTER" = cpu ]; then
        cpu_before=$(cpu_us)
        started=$(now)
        "$@"
        ended=$(now)
        total=$(($(cpu_us) - cpu_before))
    elif [ "$COUNTER" = perf ]; then
        started=$(now)
        perf stat -e instructions -x, -o "$WORK/perf.out" -p "$PIDS_CSV" -- "$@"
        ended=$(now)
        total=$(grep -E '^[0-9]+,' "$WORK/perf.out" | head -1 | cut -d, -f1)
    else
        rm -f "$WORK"/callgrind.node*.*.*
        for pid in "${NODE_PIDS[@]}"; do
            callgrind_control --zero "$pid" >/dev/null &
            controls+=($!)
        done
        wait "${controls[@]}"
        started=$(now)
        "$@"
        ended=$(now)
        controls=()
        for pid in "${NODE_PIDS[@]}"; do
            callgrind_control --dump "$pid" >/dev/null &
            controls+=($!)
        done
        wait "${controls[@]}"
        for file in "$WORK"/callgrind.node*.*.*; do
            total=$((total + $(awk '/^summary:/ {print $2}' "$file")))
            if [ -n "$PROFILES" ]; then
                node=${file#"$WORK"/callgrind.}
                cp "$file" "$PROFILES/$PROFILE_LABEL.${node%%.*}"
            fi
        done
    fi
    io_after=$(io_sum)
    read -r wb0 wc0 <<<"$io_before"
    read -r wb1 wc1 <<<"$io_after"
    echo "$total $(python3 -c "import sys; print(float(sys.argv[2]) - float(sys.argv[1]))" "$started" "$ended") $((wb1 - wb0)) $((wc1 - wc0))"
}

RAW="$WORK/raw.tsv"
printf 'repeat\tworkload\tconnections\toperations\t%s\tseconds\twrite_bytes\twchar\n' "$UNIT" >"$RAW"
for repeat in $(seq 1 "$REPEAT"); do
    log "round $repeat of $REPEAT: idle baseline, $IDLE s"
    PROFILE_LABEL="$repeat-idle"
    printf '%s\tidle\t0\t0\t%s\n' "$repeat" "$(counted sleep "$IDLE" | tr ' ' '\t')" >>"$RAW"
    for workload in W C; do
        for connections in 1 16; do
            for operations in "$N" $((2 * N)); do
                log "round $repeat: $workload, $connections connection(s), $operations operations"
                PROFILE_LABEL="$repeat-$workload-$connections-$operations"
                printf '%s\t%s\t%s\t%s\t%s\n' "$repeat" "$workload" "$connections" "$operations" \
                    "$(counted bench "$workload" "$connections" "$operations" --skip-load | tr ' ' '\t')" >>"$RAW"
            done
        done
    done
done

# --- the report ------------------------------------------------------------------
{
    cat <<HEAD
# Kvorum: CPU instructions (or CPU time) and bytes written per operation

- date: $(date -u '+%Y-%m-%d %H:%M UTC'), commit $COMMIT$DIRTY
- command: \`bench/instructions.sh\` (COUNTER=$COUNTER PROTOCOL=$PROTOCOL NODE_BIN=$NODE_BIN REPEAT=$REPEAT N=$N RECORDS=$RECORDS VALUE_SIZE=$VALUE_SIZE DURABILITY=$DURABILITY IDLE=$IDLE), $((SECONDS / 60)) min $((SECONDS % 60)) s wall
- machine: $(nproc) cores, Linux $(uname -r), load average (1, 5, 15 min) $LOAD_BEFORE before, $(cut -d' ' -f1-3 /proc/loadavg) after; instruction counts hardly depend on the load, bytes written and the batching at 16 connections do
- 3 \`kvorum node\` processes (release build), N=3, R=W=2, durability \`$DURABILITY\`; $UNIT summed over the three nodes (COUNTER=$COUNTER), the client not counted
- per operation = ((I(2N) − idle·t(2N)) − (I(N) − idle·t(N))) ÷ N, idle = the nodes' instructions per second with no client; bytes likewise from /proc/PID/io

HEAD
    python3 bench/tables.py instructions "$RAW"
} | tee "$OUT"
log "written to $OUT"
