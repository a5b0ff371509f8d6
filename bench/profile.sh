#!/usr/bin/env bash
# Where Switchboard's time goes under load (docs/PERFORMANCE.md, "Where the
# time goes"). Needs bench/run.sh's build (or SKIP_BUILD=0), perf and strace.
#
#   bench/profile.sh [conns] [depth] [seconds]      (default 50 16 8)
#
# 1. perf record (cpu-clock sampling, no hardware counters needed) of the
#    server process during a `sbload ws` run: self time by library and by
#    symbol, and the call-graph (dwarf) report saved for browsing.
# 2. strace -c -f during a message-count-limited run: syscalls per message.
# 3. With CALLGRIND=1 (needs valgrind; slow): valgrind --tool=callgrind of a
#    run of CALLGRIND_MESSAGES (20,000) messages, counters reset after
#    start-up: user-space instructions per message, and the inclusive top.
# Environment: BUILD_DIR (build-bench), SWITCHBOARD_BIN, SERVER ("switchboard"
# or "qt-echo" for the baseline), CONFIG (a --config file for Switchboard).
set -euo pipefail
cd "$(dirname "$0")/.."

CONNS=${1:-50}
DEPTH=${2:-16}
SECS=${3:-8}
BUILD_DIR=${BUILD_DIR:-build-bench}
B=$BUILD_DIR/bench
SERVER=${SERVER:-switchboard}
if [ "${SKIP_BUILD:-1}" != 1 ]; then
    cmake --build "$BUILD_DIR" --target switchboard sbload bench_qt_ws_echo
fi
SB=${SWITCHBOARD_BIN:-$BUILD_DIR/src/app/switchboard}
OUT=$BUILD_DIR/profile-$SERVER-${CONNS}x$DEPTH-$(date +%H%M%S)
mkdir -p "$OUT"
HOMEDIR=$(mktemp -d)
PID=
cleanup() {
    [ -n "$PID" ] && kill -KILL "$PID" 2>/dev/null || true
    rm -rf "$HOMEDIR"
}
trap cleanup EXIT

# WRAP: a command the server runs under (valgrind for step 3), split on spaces.
WRAP=
start() {
    : >"$OUT/server.out"
    if [ "$SERVER" = qt-echo ]; then
        $WRAP "$B/bench_qt_ws_echo" 0 >"$OUT/server.out" 2>"$OUT/server.err" &
    else
        HOME=$HOMEDIR XDG_CONFIG_HOME=$HOMEDIR/config $WRAP "$SB" --headless --port 0 ${CONFIG:+--config "$CONFIG"} \
            >"$OUT/server.out" 2>"$OUT/server.err" &
    fi
    PID=$!
    PORT=
    for _ in $(seq 1200); do
        PORT=$(sed -n 's#^listening http://[^:]*:\([0-9]*\)$#\1#p' "$OUT/server.out" | head -n 1 || true)
        [ -n "$PORT" ] && break
        sleep 0.05
    done
    [ -n "$PORT" ] || { echo "server did not start" >&2; cat "$OUT/server.err" >&2; exit 1; }
    # The shipped binary may not negotiate jsonrpc yet: fall back to the bench host.
    if [ "$SERVER" != qt-echo ] && [ -z "${SWITCHBOARD_BIN:-}" ] && [ -z "$WRAP" ] \
        && ! "$B/sbload" ws --port "$PORT" --conns 1 --duration 0.1 --warmup 0 >/dev/null; then
        kill -KILL "$PID"; wait "$PID" 2>/dev/null || true
        SB=$B/bench_switchboard_host
        echo "note: measuring $SB" >&2
        start
    fi
}
stop() {
    kill -TERM "$PID" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$PID" 2>/dev/null || break; sleep 0.05; done
    kill -KILL "$PID" 2>/dev/null || true
    wait "$PID" 2>/dev/null || true
    PID=
}

echo "== perf: $SERVER, $CONNS × $DEPTH, ${SECS} s"
start
"$B/sbload" ws --port "$PORT" --conns "$CONNS" --depth "$DEPTH" --duration "$SECS" --warmup 1 \
    --timeout 60 >"$OUT/load-perf.json" &
LOADPID=$!
sleep 1
perf record -e cpu-clock -F 1999 -p "$PID" -o "$OUT/perf-flat.data" -- sleep $((SECS / 2)) 2>/dev/null
perf record -e cpu-clock -F 499 --call-graph dwarf,16384 -p "$PID" -o "$OUT/perf-graph.data" -- sleep 2 2>/dev/null
wait "$LOADPID" || true
stop
cat "$OUT/load-perf.json"
perf report -i "$OUT/perf-flat.data" --no-children --sort dso --stdio 2>/dev/null | grep -v '^#' | grep -v '^$' \
    | head -n 15 | tee "$OUT/by-dso.txt" || true
perf report -i "$OUT/perf-flat.data" --no-children --sort dso,sym --stdio 2>/dev/null | grep -v '^#' \
    | grep -v '^$' | head -n 60 >"$OUT/by-symbol.txt" || true
head -n 40 "$OUT/by-symbol.txt"
perf report -i "$OUT/perf-flat.data" --no-children --sort comm --stdio 2>/dev/null | grep -v '^#' \
    | grep -v '^$' | head -n 10 | tee "$OUT/by-thread.txt" || true
perf report -i "$OUT/perf-graph.data" --children --stdio --percent-limit 2 2>/dev/null >"$OUT/callgraph.txt" || true

echo "== strace -c -f: $SERVER, $CONNS × $DEPTH, 100,000 messages"
start
strace -c -f -p "$PID" -o "$OUT/strace.txt" &
STRACE=$!
sleep 0.5
"$B/sbload" ws --port "$PORT" --conns "$CONNS" --depth "$DEPTH" --messages 100000 --duration 60 --warmup 0 \
    --timeout 90 >"$OUT/load-strace.json" || true
kill -INT "$STRACE"
wait "$STRACE" || true
stop
msgs=$(sed -n 's/.*"received":\([0-9]*\).*/\1/p' "$OUT/load-strace.json")
calls=$(awk '$NF=="total"{print $(NF-2)}' "$OUT/strace.txt")
head -n 25 "$OUT/strace.txt" || true
echo "messages: $msgs, syscalls: $calls, per message: $(awk -v c="$calls" -v m="$msgs" 'BEGIN{printf "%.2f", c/m}')"

if [ "${CALLGRIND:-0}" = 1 ]; then
    CG_MESSAGES=${CALLGRIND_MESSAGES:-20000}
    echo "== callgrind: $SERVER, $CONNS × $DEPTH, $CG_MESSAGES messages"
    WRAP="valgrind --tool=callgrind --callgrind-out-file=$OUT/callgrind.out"
    start
    WRAP=
    # Under valgrind the first handshakes take long; then count the load only.
    "$B/sbload" ws --port "$PORT" --conns 1 --messages 10 --duration 60 --warmup 0 --timeout 60 >/dev/null || true
    callgrind_control -z "$PID" >/dev/null
    "$B/sbload" ws --port "$PORT" --conns "$CONNS" --depth "$DEPTH" --messages "$CG_MESSAGES" --duration 600 \
        --warmup 0 --timeout 600 >"$OUT/load-callgrind.json" || true
    callgrind_control -d "$PID" >/dev/null
    stop
    msgs=$(sed -n 's/.*"received":\([0-9]*\).*/\1/p' "$OUT/load-callgrind.json")
    # -d writes callgrind.out.1 (the load); the file written at exit holds only the shutdown.
    dump=$(ls "$OUT"/callgrind.out.*[0-9] 2>/dev/null | head -n 1)
    callgrind_annotate --inclusive=yes "$dump" 2>/dev/null | head -n 60 >"$OUT/callgrind-top.txt" || true
    total=$(callgrind_annotate "$dump" 2>/dev/null | sed -n 's/^ *\([0-9,]*\) .*PROGRAM TOTALS.*/\1/p' | tr -d ,)
    sed -n '1,40p' "$OUT/callgrind-top.txt"
    echo "messages: $msgs, instructions: $total, per message: $(awk -v t="$total" -v m="$msgs" 'BEGIN{printf "%.0f", t/m}')"
fi
echo "output: $OUT"
