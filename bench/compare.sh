#!/usr/bin/env bash
# Kvorum side by side with Redis and etcd, all on loopback, with the same load
# generator (`kvorum bench`): workloads W (write only) and C (read only) at 1
# and 16 connections against a 3-node Kvorum cluster (N=3, R=W=2; over HTTP
# and over its binary client protocol, docs/binary-protocol.md), a Redis
# master with one replica (SET + WAIT 1, and plain SET/GET) and a 3-member
# etcd cluster (put, linearizable range), and W again against a second 3-node
# Kvorum cluster with --durability fsync beside etcd's put (both fsync each
# write). Prints markdown tables (bench/tables.py compare) with the absolute
# figures and the Kvorum/peer ratios. Not part of CI.
#
# Usage: bench/compare.sh   (2 cores: about 5 minutes of runs, plus the release
#   build from scratch)
# Settings (environment): DURATION=6 WARMUP=1 RECORDS=100000 VALUE_SIZE=100
#   DURABILITY=process (Kvorum's --durability) SCRATCH=.build (swift build --scratch-path)
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-6}
WARMUP=${WARMUP:-1}
RECORDS=${RECORDS:-100000}
VALUE_SIZE=${VALUE_SIZE:-100}
DURABILITY=${DURABILITY:-process}
SCRATCH=${SCRATCH:-.build}
BIN="$SCRATCH/release/kvorum"

BENCH=compare
. bench/lib.sh

# --- what it needs -----------------------------------------------------------
# Whether apt has a version of package $1 to install. The policy is read
# whole before it is searched: `apt-cache policy | grep -q` fails under
# pipefail, because grep quits at the first match and apt-cache, still
# writing, dies of SIGPIPE (exit 141), so etcd was reported "not
# installable" while it was.
installable() {
    local policy
    policy=$(apt-cache policy "$1" 2>/dev/null) || return 1
    [[ $policy =~ Candidate:\ [0-9] ]]
}
# etcd's version for the table: the first line of `etcd --version`, taken
# from the whole output. `etcd --version | head -1` under pipefail failed
# when head closed the pipe before etcd had written its last line, and the
# table said "skipped (not installable)" beside etcd's own figures.
etcd_version() {
    local text
    text=$(etcd --version 2>/dev/null) || return 1
    text=${text%%$'\n'*}
    echo "${text#etcd Version: }"
}
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
if ! command -v redis-server >/dev/null || ! command -v etcd >/dev/null; then
    log "installing redis-server and etcd-server"
    $SUDO apt-get update -qq >/dev/null
    if ! command -v redis-server >/dev/null; then
        $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
    fi
    if ! command -v etcd >/dev/null; then
        if installable etcd-server; then
            $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq etcd-server >/dev/null
        else
            log "etcd-server is not installable here: etcd is skipped"
        fi
    fi
fi
HAVE_ETCD=0
command -v etcd >/dev/null && HAVE_ETCD=1

log "building Kvorum (release, scratch path $SCRATCH)"
swift build -c release --product kvorum --scratch-path "$SCRATCH" >&2

# --- start everything, stop it on exit ----------------------------------------
WORK=$(mktemp -d /tmp/kvorum-compare.XXXXXX)
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do stop_pid "$pid" 150; done
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM



BINARY_BASE=$(free_port_run 3)
log "starting a 3-node Kvorum cluster (durability $DURABILITY, binary protocol on $BINARY_BASE..$((BINARY_BASE + 2)))"
"$BIN" cluster up --data-dir "$WORK/kvorum" --durability "$DURABILITY" --binary-base-port "$BINARY_BASE" \
    >"$WORK/kvorum.log" 2>&1 &
PIDS+=($!)
wait_for 60 "the Kvorum cluster" grep -q "node(s) up" "$WORK/kvorum.log"
KVORUM_URLS=$(python3 -c 'import json,sys; print(",".join(n["http"] for n in json.load(open(sys.argv[1]))["nodes"]))' \
    "$WORK/kvorum/cluster.json")
KVORUM_BINARY="127.0.0.1:$BINARY_BASE,127.0.0.1:$((BINARY_BASE + 1)),127.0.0.1:$((BINARY_BASE + 2))"

log "starting a second 3-node Kvorum cluster with durability fsync"
"$BIN" cluster up --data-dir "$WORK/kvorum-fsync" --durability fsync >"$WORK/kvorum-fsync.log" 2>&1 &
PIDS+=($!)
wait_for 60 "the fsync Kvorum cluster" grep -q "node(s) up" "$WORK/kvorum-fsync.log"
FSYNC_URLS=$(python3 -c 'import json,sys; print(",".join(n["http"] for n in json.load(open(sys.argv[1]))["nodes"]))' \
    "$WORK/kvorum-fsync/cluster.json")

read -r REDIS_PORT REPLICA_PORT <<<"$(free_ports 2)"
log "starting Redis on $REDIS_PORT with a replica on $REPLICA_PORT (no persistence)"
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no --daemonize no \
    --dir "$WORK" >"$WORK/redis.log" 2>&1 &
PIDS+=($!)
wait_for 10 "Redis" redis-cli -p "$REDIS_PORT" ping
redis-server --port "$REPLICA_PORT" --bind 127.0.0.1 --save '' --appendonly no --daemonize no \
    --dir "$WORK" --replicaof 127.0.0.1 "$REDIS_PORT" >"$WORK/replica.log" 2>&1 &
PIDS+=($!)
wait_for 20 "the Redis replica" sh -c "redis-cli -p $REPLICA_PORT info replication | grep -q 'master_link_status:up'"

if [ "$HAVE_ETCD" = 1 ]; then
    read -r C1 C2 C3 P1 P2 P3 <<<"$(free_ports 6)"
    CLUSTER="e1=http://127.0.0.1:$P1,e2=http://127.0.0.1:$P2,e3=http://127.0.0.1:$P3"
    log "starting a 3-member etcd cluster (clients $C1 $C2 $C3)"
    for i in 1 2 3; do
        c="C$i" p="P$i"
        etcd --name "e$i" --data-dir "$WORK/etcd$i" \
            --listen-client-urls "http://127.0.0.1:${!c}" --advertise-client-urls "http://127.0.0.1:${!c}" \
            --listen-peer-urls "http://127.0.0.1:${!p}" --initial-advertise-peer-urls "http://127.0.0.1:${!p}" \
            --initial-cluster "$CLUSTER" --initial-cluster-state new --initial-cluster-token kvorum-compare \
            >"$WORK/etcd$i.log" 2>&1 &
        PIDS+=($!)
    done
    wait_for 30 "etcd" sh -c "curl -sf http://127.0.0.1:$C1/health | grep -q true"
fi

# --- the runs -------------------------------------------------------------------
RESULTS="$WORK/results"
mkdir -p "$RESULTS"
run() { # NAME LOAD(yes|no) WORKLOAD CONCURRENCY TARGET-OPTIONS...
    local name=$1 load=$2 workload=$3 concurrency=$4
    shift 4
    local skip=(--skip-load)
    [ "$load" = yes ] && skip=()
    log "$name: workload $workload, $concurrency connection(s)"
    "$BIN" bench "$@" --workload "$workload" --concurrency "$concurrency" --records "$RECORDS" \
        --value-size "$VALUE_SIZE" --duration "$DURATION" --warmup "$WARMUP" "${skip[@]}" --json \
        >"$RESULTS/$name-$workload-$concurrency.json"
}
# Each target loads the records once (in its first run), then W and C reuse them.
for c in 16 1; do
    load=no
    [ "$c" = 16 ] && load=yes
    run kvorum "$load" W "$c" --target kvorum --node "$KVORUM_URLS" --r 2 --w 2
    run kvorum+binary no W "$c" --target kvorum --protocol binary --node "$KVORUM_BINARY" --r 2 --w 2
    run kvorum+fsync "$load" W "$c" --target kvorum --node "$FSYNC_URLS" --r 2 --w 2
    run redis+wait "$load" W "$c" --target redis --redis "127.0.0.1:$REDIS_PORT" --redis-wait
    run redis no W "$c" --target redis --redis "127.0.0.1:$REDIS_PORT"
    if [ "$HAVE_ETCD" = 1 ]; then run etcd "$load" W "$c" --target etcd --etcd "http://127.0.0.1:$C1"; fi
done
for c in 16 1; do
    run kvorum no C "$c" --target kvorum --node "$KVORUM_URLS" --r 2 --w 2
    run kvorum+binary no C "$c" --target kvorum --protocol binary --node "$KVORUM_BINARY" --r 2 --w 2
    run redis no C "$c" --target redis --redis "127.0.0.1:$REDIS_PORT"
    if [ "$HAVE_ETCD" = 1 ]; then run etcd no C "$c" --target etcd --etcd "http://127.0.0.1:$C1"; fi
done

# --- the table ------------------------------------------------------------------
MEMORY=$(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)
cat <<HEAD
# Kvorum vs Redis vs etcd

- date: $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)
- machine: $(nproc) cores, $MEMORY, Linux $(uname -r); everything (servers and client) on loopback on this machine
- settings: $RECORDS records, $VALUE_SIZE-byte values, uniform keys, ${DURATION} s measured after ${WARMUP} s warm-up per run, one \`kvorum bench\` for every target
- Kvorum: 3 nodes (\`kvorum cluster up\`, release build), N=3, R=W=2, durability \`$DURABILITY\` ($( [ "$DURABILITY" = fsync ] && echo "each write is fsynced to SQLite's WAL before it is acknowledged" || echo "each write is committed to SQLite in WAL mode and handed to the OS, not fsynced"); group commit per event-loop turn); connections spread over the 3 nodes
- Redis $(redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/'): master + 1 replica, no persistence (\`--save '' --appendonly no\`); \`redis+wait\` pipelines \`WAIT 1 1000\` after each SET; every connection to the master
- etcd: $( [ "$HAVE_ETCD" = 1 ] && etcd_version || echo "skipped (not installable)"), 3 members, default durability (fsyncs its WAL), JSON gateway, linearizable range; every connection to member 1
- kvorum+binary: the same cluster through its binary client protocol (\`kvorum bench --protocol binary\`, one request in flight per connection, as for every target)
- kvorum+fsync: a second 3-node cluster with \`--durability fsync\` (each write fsynced to SQLite's WAL before it is acknowledged), W only, beside etcd's put, which fsyncs too
- ratio = Kvorum ops/s ÷ the peer's ops/s at the same workload and concurrency (W is compared with writes, C with reads)

HEAD
python3 bench/tables.py compare "$RESULTS"
echo
echo "Run: \`bench/compare.sh\`, $((SECONDS / 60)) min $((SECONDS % 60)) s wall, release build included."
