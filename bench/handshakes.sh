#!/usr/bin/env bash
# Handshake rate: how long CONNS WebSocket handshakes take with PARALLEL in
# flight, and what they cost the server (docs/PERFORMANCE.md, "Handshake
# rate").
#
#   bench/handshakes.sh [SERVER...]
#
# SERVER: a Switchboard build directory (its src/app/switchboard is run), a
# switchboard binary, or "beast" (Boost.Beast's example server, 1 thread,
# built as bench/run.sh builds it). Default: $BUILD_DIR. Several servers
# are measured interleaved, ROUNDS times each, a fresh server process per
# measurement, Switchboard with limits.maxConnections and
# limits.maxPendingSockets raised above CONNS (as the idle case does).
#
# Per measurement: sbload idle's connect_s (until all CONNS are open), the
# server's CPU time over that span (user/system per thread, from
# /proc/PID/task), the load client's CPU time, the server's voluntary
# context switches, its RSS per connection and the load average. Then
# min-median-max per server. A run that does not open all CONNS is
# reported and repeated (at most twice): on a machine where others open
# many connections too, local ports can run out for a while.
#
# MODE=callgrind: instead, valgrind --tool=callgrind (one file per thread)
# of CG_CONNS (1000) handshakes, counters reset after start-up: user-space
# instructions per handshake on each thread. MODE=strace: strace -f of
# ST_CONNS (2000) handshakes: syscalls per handshake on each thread.
#
# Environment: BUILD_DIR (build-bench; sbload and Beast's example come from
# $BUILD_DIR/bench), ROUNDS (5), CONNS (10000), PARALLEL (64), NICE (a
# command prefix for server and client, e.g. "nice -n -10" on a busy
# machine), BEAST_EXAMPLE (as in bench/run.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_DIR=${BUILD_DIR:-build-bench}
ROUNDS=${ROUNDS:-5}
CONNS=${CONNS:-10000}
PARALLEL=${PARALLEL:-64}
MODE=${MODE:-time}
CG_CONNS=${CG_CONNS:-1000}
ST_CONNS=${ST_CONNS:-2000}
NICE=${NICE:-}
BEAST_EXAMPLE=${BEAST_EXAMPLE:-/usr/share/doc/libboost1.74-doc/examples/libs/beast/example/websocket/server/async/websocket_server_async.cpp}
LOAD=$BUILD_DIR/bench/sbload
BEAST=$BUILD_DIR/bench/beast_websocket_server_async
[ $# -gt 0 ] || set -- "$BUILD_DIR"
[ -x "$LOAD" ] || { echo "error: $LOAD missing (cmake --build $BUILD_DIR --target sbload)" >&2; exit 1; }

OUT=$BUILD_DIR/handshakes-$(date +%Y%m%d-%H%M%S)
mkdir -p "$OUT"
WORK=$(mktemp -d)
SERVER_PID=
LOAD_PID=
cleanup() {
    local pid
    for pid in "$SERVER_PID" "$LOAD_PID"; do
        [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null || true
    done
    rm -rf "$WORK"
}
trap cleanup EXIT
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
echo "{\"limits\": {\"maxConnections\": $((CONNS + 2000)), \"maxPendingSockets\": $((CONNS + 2000))}}" \
    >"$WORK/config.json"

binary_of() { # SERVER -> the switchboard binary
    if [ -d "$1" ]; then echo "$1/src/app/switchboard"; else echo "$1"; fi
}

# start SERVER [WRAP...]: sets SERVER_PID, PORT and ECHO (sbload's --echo for Beast).
start() {
    local server=$1
    shift
    ECHO=()
    : >"$WORK/server.out"
    if [ "$server" = beast ]; then
        if [ ! -x "$BEAST" ]; then
            echo "building Beast's example server: $BEAST" >&2
            g++ -O2 -std=c++17 -o "$BEAST" "$BEAST_EXAMPLE" -pthread
        fi
        PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
        $NICE "$@" "$BEAST" 127.0.0.1 "$PORT" 1 >"$WORK/server.out" 2>"$WORK/server.err" &
        SERVER_PID=$!
        ECHO=(--echo)
        for _ in $(seq 200); do
            (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && return 0
            sleep 0.05
        done
    else
        HOME=$WORK XDG_CONFIG_HOME=$WORK/config $NICE "$@" "$(binary_of "$server")" --headless --port 0 \
            --config "$WORK/config.json" >"$WORK/server.out" 2>"$WORK/server.err" &
        SERVER_PID=$!
        PORT=
        for _ in $(seq 1200); do
            PORT=$(sed -n 's#^listening http://[^:]*:\([0-9]*\)$#\1#p' "$WORK/server.out" | head -n 1 || true)
            [ -n "$PORT" ] && return 0
            sleep 0.05
        done
    fi
    echo "error: $server did not start" >&2
    cat "$WORK/server.err" >&2
    exit 1
}

stop() {
    [ -n "$LOAD_PID" ] && { kill "$LOAD_PID" 2>/dev/null || true; wait "$LOAD_PID" 2>/dev/null || true; }
    LOAD_PID=
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=
}

# load N: starts sbload idle with N connections and waits until all are
# open (or it gave up); the connections stay open until stop().
load() {
    : >"$WORK/load.out"
    $NICE "$LOAD" idle "${ECHO[@]}" --port "$PORT" --conns "$1" --parallel "$PARALLEL" --hold 600 \
        --timeout 600 >"$WORK/load.out" &
    LOAD_PID=$!
    while ! grep -q '"event":"connected"' "$WORK/load.out"; do
        kill -0 "$LOAD_PID" 2>/dev/null || break
        sleep 0.01
    done
}

ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
thread_ticks() { # "name:user/system ..." in clock ticks
    local t
    for t in /proc/"$1"/task/*; do
        awk '{gsub(/[()]/, "", $2); printf "%s:%d/%d ", $2, $14, $15}' "$t/stat"
    done
}
switches() { cat /proc/"$1"/task/*/status | awk '/^voluntary_ctxt_switches/ {s += $2} END {print s}'; }
rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }

measure() { # SERVER -> one JSON line, or nothing when not all connections opened
    local server=$1 hz c0 s0 r0 c1 s1 r1 client threads
    hz=$(getconf CLK_TCK)
    start "$server"
    sleep 0.3
    c0=$(ticks "$SERVER_PID"); s0=$(switches "$SERVER_PID"); r0=$(rss_kib "$SERVER_PID")
    load "$CONNS"
    c1=$(ticks "$SERVER_PID"); s1=$(switches "$SERVER_PID")
    client=$(ticks "$LOAD_PID" 2>/dev/null || echo 0)
    threads=$(thread_ticks "$SERVER_PID")
    sleep 1
    r1=$(rss_kib "$SERVER_PID")
    local line
    line=$(grep '"event":"connected"' "$WORK/load.out" || true)
    stop
    local connected
    connected=$(sed -n 's/.*"connected":\([0-9]*\).*/\1/p' <<<"$line")
    if [ "${connected:-0}" != "$CONNS" ]; then
        echo "# $server: $connected of $CONNS opened; $(tail -n 1 "$WORK/load.out")" >&2
        return 0
    fi
    awk -v s="$server" -v l="$line" -v c="$((c1 - c0))" -v cl="$client" -v hz="$hz" -v sw="$((s1 - s0))" \
        -v rss="$(( (r1 - r0) ))" -v n="$CONNS" -v load="$(cut -d' ' -f1 /proc/loadavg)" -v th="$threads" 'BEGIN {
        match(l, /"connect_s":[0-9.]+/); t = substr(l, RSTART + 12, RLENGTH - 12)
        printf "{\"server\":\"%s\",\"connect_s\":%s,\"server_cpu_s\":%.2f,\"client_cpu_s\":%.2f,", s, t, c / hz, cl / hz
        printf "\"server_switches\":%d,\"rss_kib_per_conn\":%.1f,\"load\":%s,\"threads\":\"%s\"}\n", sw, rss / n, load, th
    }'
}

summary() {
    python3 - "$OUT/results.jsonl" <<'EOF'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
servers = list(dict.fromkeys(r["server"] for r in rows))
def mmm(values, unit="", digits=2):
    v = sorted(values)
    return f"{v[0]:.{digits}f}–{statistics.median(v):.{digits}f}–{v[-1]:.{digits}f}{unit}" if v else "-"
print("| server | runs | connect_s (min–median–max) | server CPU | client CPU | load average |")
print("|---|---|---|---|---|---|")
for s in servers:
    rs = [r for r in rows if r["server"] == s]
    print(f"| {s} | {len(rs)} | {mmm([r['connect_s'] for r in rs], ' s', 3)} | {mmm([r['server_cpu_s'] for r in rs], ' s')} "
          f"| {mmm([r['client_cpu_s'] for r in rs], ' s')} | {mmm([r['load'] for r in rs], '', 1)} |")
EOF
}

case "$MODE" in
time)
    for round in $(seq "$ROUNDS"); do
        for server in "$@"; do
            for attempt in 1 2 3; do
                line=$(measure "$server")
                if [ -n "$line" ]; then
                    echo "$line" | tee -a "$OUT/results.jsonl"
                    break
                fi
                sleep 5
            done
        done
    done
    summary | tee "$OUT/summary.md"
    ;;
callgrind)
    for server in "$@"; do
        [ "$server" = beast ] && continue
        dir=$OUT/callgrind-$(basename "$server")
        mkdir -p "$dir"
        start "$server" valgrind --tool=callgrind --separate-threads=yes --callgrind-out-file="$dir/callgrind.out"
        sleep 1
        callgrind_control -z "$SERVER_PID" >/dev/null
        load "$CG_CONNS"
        sleep 1
        callgrind_control -d "$SERVER_PID" >/dev/null
        stop
        # Thread 1 is the main thread, 2 the core thread, then the workers.
        echo "== $server: user-space instructions per handshake ($CG_CONNS handshakes), by thread"
        for f in "$dir"/callgrind.out.1-*; do
            total=$(callgrind_annotate "$f" 2>/dev/null | sed -n 's/^ *\([0-9,]*\) .*PROGRAM TOTALS.*/\1/p' | tr -d ,)
            [ "${total:-0}" -gt 1000 ] || continue
            echo "thread ${f##*-}: $((total / CG_CONNS))"
        done
    done
    ;;
strace)
    for server in "$@"; do
        start "$server"
        sleep 0.3
        strace -f -qq -p "$SERVER_PID" -o "$OUT/strace-$(basename "$server").txt" 2>/dev/null &
        tracer=$!
        sleep 1
        load "$ST_CONNS"
        kill -INT "$tracer"; wait "$tracer" 2>/dev/null || true
        for t in /proc/"$SERVER_PID"/task/*; do echo "$(basename "$t") $(cat "$t/comm")"; done >"$WORK/threads"
        stop
        echo "== $server: syscalls per handshake ($ST_CONNS handshakes), by thread"
        python3 - "$OUT/strace-$(basename "$server").txt" "$ST_CONNS" "$WORK/threads" <<'EOF'
import collections, re, sys
n = int(sys.argv[2]); calls = collections.Counter(); per_thread = collections.Counter()
names = dict(line.split(maxsplit=1) for line in open(sys.argv[3]) if line.strip())
for line in open(sys.argv[1]):
    m = re.match(r"(\d+)\s+([a-z_0-9]+)\(", line)
    if m:
        calls[m.groups()] += 1; per_thread[m.group(1)] += 1
for tid, total in per_thread.most_common():
    detail = ", ".join(f"{name} {count / n:.2f}" for (t, name), count in calls.most_common() if t == tid and count / n >= 0.02)
    print(f"{names.get(tid, tid).strip()}: {total / n:.2f} ({detail})")
EOF
    done
    ;;
*)
    echo "error: MODE must be time, callgrind or strace" >&2
    exit 1
    ;;
esac
echo "output: $OUT"
