# Helpers shared by the benchmark scripts. Source it from the repository's
# root after setting BENCH (the prefix of log lines):
#   BENCH=compare; . bench/lib.sh

log() { echo "[$BENCH] $*" >&2; }

# Waits up to SECONDS for COMMAND to succeed; exits the script if it does not.
wait_for() { # SECONDS DESCRIPTION COMMAND...
    local deadline=$((SECONDS + $1)) what=$2
    shift 2
    until "$@" >/dev/null 2>&1; do
        [ $SECONDS -lt $deadline ] || { log "timed out waiting for $what"; exit 1; }
        sleep 0.2
    done
}

# Prints N free loopback ports.
free_ports() { # N
    python3 - "$1" <<'PY'
import socket, sys
socks = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in socks: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))
PY
}

# The first of N consecutive free loopback ports (for `cluster up
# --binary-base-port`).
free_port_run() { # N
    python3 - "$1" <<'PY'
import random, socket, sys
count = int(sys.argv[1])
for _ in range(200):
    base = random.randrange(20000, 60000)
    socks = []
    try:
        for port in range(base, base + count):
            s = socket.socket()
            s.bind(("127.0.0.1", port))
            socks.append(s)
        print(base)
        break
    except OSError:
        pass
    finally:
        for s in socks:
            s.close()
else:
    sys.exit("no run of free ports found")
PY
}

# Sends SIGTERM to PID, waits up to TENTHS tenths of a second for it to
# exit, then kills it.
stop_pid() { # PID TENTHS
    kill -TERM "$1" 2>/dev/null || true
    for _ in $(seq 1 "$2"); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$1" 2>/dev/null || true
}

now() { date +%s.%N; }
