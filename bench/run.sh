#!/usr/bin/env bash
# Switchboard against plain-Qt baselines, interleaved, on loopback.
# Results and the method: docs/PERFORMANCE.md.
#
#   bench/run.sh                 build (Release) and run every case, 3 rounds
#   ROUNDS=1 DURATION=3 bench/run.sh          quicker, noisier
#   CASES="ws50x1 http50" bench/run.sh        only some cases
#
# Cases: ws50x16 ws50x1 ws1x1 idle http50 workers upstream50x16 upstream1x1 upstreamslow beside-idle
# Environment: BUILD_DIR (build-bench), ROUNDS (3), DURATION (6 s measured
# per run), WARMUP (1 s), IDLE_CONNS (10000), IDLE_HOLD (4 s), CASES,
# SKIP_BUILD=1, SWITCHBOARD_BIN (default: the build's switchboard, or
# bench_switchboard_host when that one does not negotiate jsonrpc),
# QUIET_MAX (15 % busy) and QUIET_WAIT (60 s): before each run, wait at most
# QUIET_WAIT seconds for the machine to be at most QUIET_MAX % busy (the
# busy figure is recorded with every result).
#
# Every server is started fresh for each measurement with its defaults (the
# traffic log on), except: the idle case raises limits.maxConnections and
# limits.maxPendingSockets (default 1000 / 4096) to 12000, and the workers
# case sets workerThreads. Switchboard gets a private HOME so persisted
# method switches of this machine do not leak in. Output: a table on stdout,
# raw JSON lines and server logs under $BUILD_DIR/bench-results/<time>/.
#
# Upstream cases (a method served by an HTTP upstream, PRODUCT.md section 7):
# the upstream is bench/fast_upstream (no Qt, epoll, answers every POST
# {"result": params}), started fresh for each case and round; Switchboard
# gets a catalog with "echo" and "up.echo" (handler {"upstream": "fast"},
# maxInFlight 4096, the upstream's other settings at their defaults).
#   upstream50x16  sbload ws --method up.echo, 50 conns x depth 16, through
#                  Switchboard, against sbload upstream driving fast_upstream
#                  directly with 50 keep-alive connections, one request
#                  outstanding on each (as wrk does); also, for scale only, the
#                  same 50 connections pipelining 16 requests each.
#   upstream1x1    p50 of up.echo through Switchboard, 1 conn x depth 1, against
#                  the upstream's own p50 (direct, 1 x 1) plus 1.2 x
#                  Switchboard's echo p50 (1 x 1, a fresh server).
#   upstreamslow   fast_upstream --delay-ms SLOW_DELAY_MS; one Switchboard:
#                  echo p99 on 10 connections alone, then the same while
#                  SLOW_CONNS other connections each keep one up.echo call
#                  outstanding; Switchboard's RSS before, at its peak during
#                  (sampled every 0.2 s) and after that load.
# Environment for them: UP_DURATION (3 s measured per run), UP_THREADS
# (fast_upstream threads, 1), SLOW_CONNS (1000), SLOW_DELAY_MS (100),
# SLOW_UPSTREAM_CONNECTIONS (the upstream's maxConnections in upstreamslow;
# default: not set, Switchboard's default).
#
# beside-idle: 50 x 1 and 50 x 16 echo beside N idle WebSocket connections,
# for each N of IDLE_LEVELS and each server, interleaved per round: a fresh
# server; one `sbload idle` process opens N connections and holds them for
# the whole step; then `sbload ws` 50 x 1 and 50 x 16 (a fresh process each,
# DURATION/WARMUP as the ws cases); the idle client's count of connections
# still open; then everything stops. RSS of the server before and with the N
# idle connections. Separately, per round and server: the time to open
# HANDSHAKE_CONNS connections with HANDSHAKE_PARALLEL handshakes in flight
# (sbload idle's connect_s). Servers:
#   switchboard          its defaults, limits.maxConnections/maxPendingSockets
#                        raised above the largest N (as the idle case does)
#   switchboard-qtloop   the same plus "eventLoop": "qt" (Qt's stock event
#                        dispatcher); left out when the binary refuses the key
#   qt-echo              bench_qt_ws_echo (plain QWebSocketServer)
#   beast-1t             Boost.Beast's own example websocket_server_async.cpp
#                        (Debian's libboost1.74-doc, headers from libboost-dev)
#                        with 1 thread, compiled here at run time into
#                        $BUILD_DIR/bench; it echoes each message verbatim and
#                        names no subprotocol, so sbload runs with --echo (the
#                        reply must equal the request byte for byte). Left out
#                        with a note when the packages are missing.
# The packages (and python3-matplotlib for bench/plot_beside_idle.py) are
# installed with apt-get when missing (through sudo when not root; set
# BENCH_SKIP_DEPS=1 to skip). Environment: IDLE_LEVELS ("0 1000 5000 15000"),
# HANDSHAKE_CONNS (10000), HANDSHAKE_PARALLEL (64), BEAST_EXAMPLE (the example's
# path). The plot: python3 bench/plot_beside_idle.py RESULTS.jsonl docs/beside-idle.png
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_DIR=${BUILD_DIR:-build-bench}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-6}
WARMUP=${WARMUP:-1}
IDLE_CONNS=${IDLE_CONNS:-10000}
IDLE_HOLD=${IDLE_HOLD:-4}
CASES=${CASES:-"ws50x16 ws50x1 ws1x1 idle http50 workers upstream50x16 upstream1x1 upstreamslow beside-idle"}
UP_DURATION=${UP_DURATION:-3}
UP_THREADS=${UP_THREADS:-1}
SLOW_CONNS=${SLOW_CONNS:-1000}
SLOW_DELAY_MS=${SLOW_DELAY_MS:-100}
SLOW_UPSTREAM_CONNECTIONS=${SLOW_UPSTREAM_CONNECTIONS:-}
QUIET_MAX=${QUIET_MAX:-15}   # % CPU busy (all cores) tolerated before a run
QUIET_WAIT=${QUIET_WAIT:-60} # s waited at most for that
IDLE_LEVELS=${IDLE_LEVELS:-"0 1000 5000 15000"}
HANDSHAKE_CONNS=${HANDSHAKE_CONNS:-10000}
HANDSHAKE_PARALLEL=${HANDSHAKE_PARALLEL:-64}
BEAST_EXAMPLE=${BEAST_EXAMPLE:-/usr/share/doc/libboost1.74-doc/examples/libs/beast/example/websocket/server/async/websocket_server_async.cpp}

has_case() { [[ " $CASES " == *" $1 "* ]]; }

# What beside-idle needs from Debian: Beast's headers and its example server,
# and matplotlib for the plot. Missing ones are installed when possible.
if has_case beside-idle && [ "${BENCH_SKIP_DEPS:-0}" != 1 ]; then
    missing=()
    for pkg in libboost-dev libboost1.74-doc python3-matplotlib; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        sudo=()
        [ "$(id -u)" -eq 0 ] || sudo=(sudo -n)
        echo "Installing: ${missing[*]}"
        { "${sudo[@]}" apt-get update -qq &&
            DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"; } ||
            echo "note: could not install ${missing[*]}; what needs them is left out" >&2
    fi
fi

started=$(date +%s)
if [ "${SKIP_BUILD:-0}" != 1 ]; then
    cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSWITCHBOARD_BUILD_BENCH=ON \
        -DSWITCHBOARD_BUILD_TESTS=OFF -DSWITCHBOARD_BUILD_GUI=OFF -DSWITCHBOARD_SANITIZE=OFF >/dev/null
    targets=(switchboard sbload fast_upstream bench_qt_ws_echo bench_qt_http_health)
    [ -f src/app/commandline.cpp ] && [ -f src/app/headlessrunner.cpp ] && targets+=(bench_switchboard_host)
    cmake --build "$BUILD_DIR" --target "${targets[@]}"
fi

B=$BUILD_DIR/bench
LOAD=$B/sbload
FAST=$B/fast_upstream
OUT=$BUILD_DIR/bench-results/$(date +%Y%m%d-%H%M%S)
mkdir -p "$OUT"
RESULTS=$OUT/results.jsonl
SB_HOME=$(mktemp -d)
SERVER_PID=
UP_PID=
BG_PIDS=()
cleanup() {
    local pid
    for pid in "$SERVER_PID" "$UP_PID" "${BG_PIDS[@]}"; do
        if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
            kill -KILL "$pid" 2>/dev/null || true
        fi
    done
    rm -rf "$SB_HOME"
}
trap cleanup EXIT

# Both processes need a descriptor per idle connection and some.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt $((IDLE_CONNS + 200)) ]; then
    IDLE_CONNS=$(( $(ulimit -n) - 200 ))
    echo "note: ulimit -n is $(ulimit -n); idle case reduced to $IDLE_CONNS connections" >&2
fi
# beside-idle: levels the descriptor limit cannot hold are left out, not shrunk
# (a level's N is its name in the results).
levels=()
for n in $IDLE_LEVELS; do
    if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt $((n + 200)) ]; then
        echo "note: ulimit -n is $(ulimit -n); beside-idle level $n left out" >&2
    else
        levels+=("$n")
    fi
done
IDLE_LEVELS=${levels[*]}
beside_max=$HANDSHAKE_CONNS
for n in $IDLE_LEVELS; do [ "$n" -gt "$beside_max" ] && beside_max=$n; done

cat >"$SB_HOME/idle.json" <<EOF
{"limits": {"maxConnections": $((IDLE_CONNS + 2000)), "maxPendingSockets": $((IDLE_CONNS + 2000))}}
EOF
# beside-idle: the largest level (or the handshake count) and the 50 busy connections fit.
cat >"$SB_HOME/beside.json" <<EOF
{"limits": {"maxConnections": $((beside_max + 2000)), "maxPendingSockets": $((beside_max + 2000))}}
EOF
cat >"$SB_HOME/beside-qtloop.json" <<EOF
{"eventLoop": "qt", "limits": {"maxConnections": $((beside_max + 2000)), "maxPendingSockets": $((beside_max + 2000))}}
EOF
echo '{"workerThreads": 1}' >"$SB_HOME/workers1.json"
echo '{"workerThreads": 2}' >"$SB_HOME/workers2.json"
# upstreamslow: SLOW_CONNS + 10 connections at once, above the default limit of 1000.
cat >"$SB_HOME/slow.json" <<EOF
{"limits": {"maxConnections": $((SLOW_CONNS + 1000)), "maxPendingSockets": $((SLOW_CONNS + 1000))}}
EOF

# start_server NAME COMMAND... : sets SERVER_PID and PORT from "listening http://HOST:PORT".
start_server() {
    local name=$1
    shift
    wait_quiet
    local log=$OUT/$name-$RUN
    : >"$log.out"
    HOME=$SB_HOME XDG_CONFIG_HOME=$SB_HOME/config "$@" >"$log.out" 2>"$log.err" &
    SERVER_PID=$!
    PORT=
    for _ in $(seq 200); do
        PORT=$(sed -n 's#^listening http://[^:]*:\([0-9]*\)$#\1#p' "$log.out" | head -n 1 || true)
        [ -n "$PORT" ] && break
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.05
    done
    if [ -z "$PORT" ]; then
        echo "error: $name did not start; see $log.err" >&2
        cat "$log.err" >&2
        [ "${START_OPTIONAL:-0}" = 1 ] && { kill -KILL "$SERVER_PID" 2>/dev/null || true; SERVER_PID=; return 1; }
        exit 1
    fi
}

# start_server_on_port NAME PORT COMMAND...: for a server that prints no
# listening line (Beast's example): sets SERVER_PID and PORT once PORT accepts.
start_server_on_port() {
    local name=$1 port=$2
    shift 2
    wait_quiet
    local log=$OUT/$name-$RUN
    "$@" >"$log.out" 2>"$log.err" &
    SERVER_PID=$!
    PORT=
    for _ in $(seq 200); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            PORT=$port
            break
        fi
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.05
    done
    if [ -z "$PORT" ]; then
        echo "error: $name did not start on port $port; see $log.err" >&2
        cat "$log.err" >&2
        exit 1
    fi
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_upstream NAME [fast_upstream options...]: sets UP_PID, UP_PORT and
# CATALOG (a catalog with echo and up.echo served by it).
start_upstream() {
    local name=$1
    shift
    local log=$OUT/upstream-$name-$RUN
    : >"$log.out"
    "$FAST" --port 0 --threads "$UP_THREADS" "$@" >"$log.out" 2>"$log.err" &
    UP_PID=$!
    UP_PORT=
    for _ in $(seq 200); do
        UP_PORT=$(sed -n 's#^listening http://[^:]*:\([0-9]*\)$#\1#p' "$log.out" | head -n 1 || true)
        [ -n "$UP_PORT" ] && break
        kill -0 "$UP_PID" 2>/dev/null || break
        sleep 0.05
    done
    if [ -z "$UP_PORT" ]; then
        echo "error: fast_upstream did not start; see $log.err" >&2
        cat "$log.err" >&2
        exit 1
    fi
    CATALOG=$SB_HOME/catalog-$name-$RUN.json
    local extra=
    [ "$name" = upstreamslow ] && [ -n "$SLOW_UPSTREAM_CONNECTIONS" ] && extra=", \"maxConnections\": $SLOW_UPSTREAM_CONNECTIONS"
    cat >"$CATALOG" <<EOF
{"upstreams": {"fast": {"url": "http://127.0.0.1:$UP_PORT/rpc", "maxInFlight": 4096$extra}},
 "methods": [{"name": "echo"}, {"name": "up.echo", "handler": {"upstream": "fast"}}]}
EOF
}

stop_upstream() {
    kill -TERM "$UP_PID" 2>/dev/null || true
    for _ in $(seq 100); do
        kill -0 "$UP_PID" 2>/dev/null || break
        sleep 0.05
    done
    kill -KILL "$UP_PID" 2>/dev/null || true
    wait "$UP_PID" 2>/dev/null || true
    UP_PID=
}

stop_server() {
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 100); do
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.05
    done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=
}

# Percent of all CPUs busy over half a second (/proc/stat).
cpu_busy() {
    local a b
    a=($(head -n 1 /proc/stat))
    sleep 0.5
    b=($(head -n 1 /proc/stat))
    local total=0 i
    for i in 1 2 3 4 5 6 7 8; do total=$((total + b[i] - a[i])); done
    local idle=$((b[4] - a[4] + b[5] - a[5]))
    echo $(( total > 0 ? 100 * (total - idle) / total : 0 ))
}

# The machine may be shared (builds of other people): wait, bounded, until it
# is quiet, and record how busy it was in every result line.
BUSY=0
wait_quiet() {
    local waited=0
    BUSY=$(cpu_busy)
    while [ "$BUSY" -gt "$QUIET_MAX" ] && [ "$waited" -lt "$QUIET_WAIT" ]; do
        sleep 2
        waited=$((waited + 3))
        BUSY=$(cpu_busy)
    done
    [ "$BUSY" -gt "$QUIET_MAX" ] && echo "  note: machine ${BUSY}% busy before this run" >&2
    return 0
}

# CPU seconds (user + system, all threads) a process has used so far.
cpu_s() { awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f", ($14 + $15) / hz}' "/proc/$1/stat"; }

rss_kib() { sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$1/status"; }

# emit CASE SERVER JSON [EXTRA_JSON_MEMBERS]: one result line, also shown.
emit() {
    local line="{\"case\":\"$1\",\"server\":\"$2\",\"round\":$ROUND,\"busy_before\":$BUSY,${4:+$4,}${3#\{}"
    echo "$line" >>"$RESULTS"
    echo "  $line" | cut -c1-220
}

# Which binary is "Switchboard": the shipped one when it speaks jsonrpc.
SB_KIND=switchboard
SB=${SWITCHBOARD_BIN:-$BUILD_DIR/src/app/switchboard}
if [ -z "${SWITCHBOARD_BIN:-}" ]; then
    RUN=probe
    start_server probe "$SB" --headless --port 0
    if ! "$LOAD" ws --port "$PORT" --conns 1 --depth 1 --duration 0.2 --warmup 0 --timeout 10 >"$OUT/probe.json"; then
        echo "note: $SB does not serve jsonrpc echo ($(sed 's/.*first_error":\(.*\)}/\1/' "$OUT/probe.json" | cut -c1-120));" >&2
        echo "      measuring bench_switchboard_host (Switchboard::create + headless runner) instead" >&2
        [ -x "$B/bench_switchboard_host" ] || { echo "error: no bench_switchboard_host either" >&2; exit 1; }
        SB=$B/bench_switchboard_host
        SB_KIND=switchboard-host
    fi
    stop_server
fi
echo "switchboard binary: $SB ($SB_KIND)" | tee "$OUT/setup.txt"
{
    echo "date: $(date -u +%FT%TZ)"
    echo "git: $(git rev-parse --short HEAD 2>/dev/null || echo none) $(git diff --quiet 2>/dev/null || echo '(with local changes)')"
    echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-) x $(nproc)"
    echo "kernel: $(uname -r)"
    echo "qt: $(qtpaths6 --qt-version 2>/dev/null || echo unknown)"
    echo "rounds=$ROUNDS duration=${DURATION}s warmup=${WARMUP}s idle=$IDLE_CONNS hold=${IDLE_HOLD}s"
    echo "upstream cases: duration=${UP_DURATION}s fast_upstream threads=$UP_THREADS slow=$SLOW_CONNS conns x ${SLOW_DELAY_MS} ms" \
        "maxConnections=${SLOW_UPSTREAM_CONNECTIONS:-default}"
} | tee -a "$OUT/setup.txt"

# Does this Switchboard serve a method from an HTTP upstream? If not, the
# upstream cases are left out (with a note), the others still run.
if has_case upstream50x16 || has_case upstream1x1 || has_case upstreamslow; then
    RUN=probe
    up_ok=0
    start_upstream probe
    if START_OPTIONAL=1 start_server probe-upstream "$SB" --headless --port 0 --catalog "$CATALOG"; then
        "$LOAD" ws --port "$PORT" --conns 1 --depth 1 --duration 0.2 --warmup 0 --timeout 10 --method up.echo \
            >"$OUT/probe-upstream.json" && up_ok=1
        stop_server
    fi
    stop_upstream
    if [ "$up_ok" != 1 ]; then
        echo "note: $SB does not serve a catalog method from an upstream ($(sed 's/.*first_error":\(.*\)}/\1/' \
            "$OUT/probe-upstream.json" 2>/dev/null | cut -c1-120)); upstream cases left out" >&2
        CASES=$(echo " $CASES " | sed 's/ upstream50x16 / /; s/ upstream1x1 / /; s/ upstreamslow / /')
    fi
fi

# beside-idle's servers: is "eventLoop" known to this Switchboard, and can
# Beast's example be built here?
BESIDE_SERVERS=
BEAST=$B/beast_websocket_server_async
if has_case beside-idle; then
    BESIDE_SERVERS="switchboard"
    RUN=probe
    if START_OPTIONAL=1 start_server probe-qtloop "$SB" --headless --port 0 --config "$SB_HOME/beside-qtloop.json"; then
        stop_server
        BESIDE_SERVERS+=" switchboard-qtloop"
    else
        echo "note: $SB refuses \"eventLoop\": \"qt\"; beside-idle runs without switchboard-qtloop" >&2
    fi
    BESIDE_SERVERS+=" qt-echo"
    if [ -f "$BEAST_EXAMPLE" ] && [ -f /usr/include/boost/beast.hpp ]; then
        if [ ! -x "$BEAST" ] || [ "$BEAST_EXAMPLE" -nt "$BEAST" ]; then
            echo "building Beast's example server: $BEAST"
            g++ -O2 -std=c++17 -o "$BEAST" "$BEAST_EXAMPLE" -pthread
        fi
        BESIDE_SERVERS+=" beast-1t"
    else
        echo "note: Beast's example ($BEAST_EXAMPLE) or headers (libboost-dev) missing; beside-idle runs without Beast" >&2
    fi
    echo "beside-idle: levels $IDLE_LEVELS; servers $BESIDE_SERVERS; handshakes $HANDSHAKE_CONNS x $HANDSHAKE_PARALLEL in flight" \
        | tee -a "$OUT/setup.txt"
fi

# What a result line says when sbload printed none (it crashed or was killed).
NO_RESULT='{"errors":1,"first_error":"no result line from sbload"}'

# start_beside CASE SERVER: one of BESIDE_SERVERS, fresh; sets ECHO_FLAG for sbload.
ECHO_FLAG=()
start_beside() {
    local name=$1-$2
    ECHO_FLAG=()
    case "$2" in
        switchboard) start_server "$name" "$SB" --headless --port 0 --config "$SB_HOME/beside.json" ;;
        switchboard-qtloop) start_server "$name" "$SB" --headless --port 0 --config "$SB_HOME/beside-qtloop.json" ;;
        qt-echo) start_server "$name" "$B/bench_qt_ws_echo" 0 ;;
        beast-1t)
            local port
            port=$(free_port)
            start_server_on_port "$name" "$port" "$BEAST" 127.0.0.1 "$port" 1
            ECHO_FLAG=(--echo)
            ;;
        *) echo "error: unknown beside-idle server $2" >&2; exit 1 ;;
    esac
}

# beside_run SERVER N: N idle connections held by one sbload idle process while
# two fresh sbload ws runs (50 x 1, 50 x 16) measure; one result line per depth.
beside_run() {
    local server=$1 n=$2
    start_beside "beside-idle-$n" "$server"
    sleep 0.5
    local before idle_kib idle_pid= idle_log=$OUT/beside-idle-$n-$server-$RUN.idle
    before=$(rss_kib "$SERVER_PID")
    idle_kib=$before
    if [ "$n" -gt 0 ]; then
        "$LOAD" idle --port "$PORT" --conns "$n" --hold 86400 --timeout 86400 --label "beside-idle-$n" \
            "${ECHO_FLAG[@]}" >"$idle_log" &
        idle_pid=$!
        BG_PIDS=("$idle_pid")
        for _ in $(seq 1200); do
            grep -q '"event":"connected"' "$idle_log" && break
            kill -0 "$idle_pid" 2>/dev/null || break
            sleep 0.1
        done
        sleep 1 # deferred deletes and hand-overs settle, as in the idle case
        idle_kib=$(rss_kib "$SERVER_PID")
    fi
    local depth r c0 c1 results=()
    for depth in 1 16; do
        c0=$(cpu_s "$SERVER_PID")
        r=$("$LOAD" ws --port "$PORT" --conns 50 --depth "$depth" --duration "$DURATION" --warmup "$WARMUP" \
            --timeout 60 --label "beside-idle-$n-50x$depth" "${ECHO_FLAG[@]}" || true)
        c1=$(cpu_s "$SERVER_PID")
        results+=("$depth" "$(cpu_delta "$c0" "$c1")" "${r:-$NO_RESULT}")
    done
    local idle_fields="\"idle\":$n,\"rss_before_kib\":$before,\"rss_idle_kib\":$idle_kib"
    if [ -n "$idle_pid" ]; then
        kill -TERM "$idle_pid" 2>/dev/null || true
        wait "$idle_pid" || true
        BG_PIDS=()
        # held: still open after both measurements, as the idle client saw them.
        idle_fields+=$(python3 - "$(grep -v '"event"' "$idle_log" | tail -n 1)" <<'PY'
import json, sys
r = json.loads(sys.argv[1]) if sys.argv[1].strip() else {}
print(',"idle_connected":%d,"idle_held":%d,"idle_connect_s":%.3f,"idle_errors":%d,"idle_first_error":%s' % (
    r.get("connected", 0), r.get("held", 0), r.get("connect_s", 0), r.get("errors", 0) if r else 1,
    json.dumps(r.get("first_error", "no result from sbload idle"))))
PY
)
    fi
    stop_server
    # Switchboard names its event loop when it starts listening.
    local loop
    loop=$(sed -n 's/.*event loop \([a-z]*\).*/\1/p' "$OUT/beside-idle-$n-$server-$RUN.err" 2>/dev/null | head -n 1)
    [ -n "$loop" ] && idle_fields+=",\"event_loop\":\"$loop\""
    local i
    for ((i = 0; i < ${#results[@]}; i += 3)); do
        emit beside-idle "$server" "${results[i + 2]}" "$idle_fields,\"server_cpu_s\":${results[i + 1]}"
    done
}

# handshake_run SERVER: HANDSHAKE_CONNS handshakes, HANDSHAKE_PARALLEL in flight, on a fresh server.
handshake_run() {
    local server=$1
    start_beside beside-idle-handshakes "$server"
    sleep 0.5
    local r
    r=$("$LOAD" idle --port "$PORT" --conns "$HANDSHAKE_CONNS" --parallel "$HANDSHAKE_PARALLEL" --hold 0 \
        --timeout 120 --label handshakes "${ECHO_FLAG[@]}" | tail -n 1 || true)
    stop_server
    emit beside-idle-handshakes "$server" "${r:-$NO_RESULT}" "\"parallel\":$HANDSHAKE_PARALLEL"
}

ws_run() { # CASE SERVER CONNS DEPTH COMMAND...
    local case=$1 server=$2 conns=$3 depth=$4
    shift 4
    start_server "$case-$server" "$@"
    local r c0 c1
    c0=$(cpu_s "$SERVER_PID")
    r=$("$LOAD" ws --port "$PORT" --conns "$conns" --depth "$depth" --duration "$DURATION" \
        --warmup "$WARMUP" --timeout 60 --label "$case" || true)
    c1=$(cpu_s "$SERVER_PID")
    stop_server
    emit "$case" "$server" "$r" "\"server_cpu_s\":$(awk -v a="$c0" -v b="$c1" 'BEGIN{printf "%.2f", b - a}')"
}

http_run() { # CASE SERVER COMMAND...
    local case=$1 server=$2
    shift 2
    start_server "$case-$server" "$@"
    local r c0 c1
    c0=$(cpu_s "$SERVER_PID")
    r=$("$LOAD" http --port "$PORT" --conns 50 --duration "$DURATION" --warmup "$WARMUP" --timeout 60 \
        --label "$case" || true)
    c1=$(cpu_s "$SERVER_PID")
    stop_server
    emit "$case" "$server" "$r" "\"server_cpu_s\":$(awk -v a="$c0" -v b="$c1" 'BEGIN{printf "%.2f", b - a}')"
}

idle_run() { # SERVER COMMAND...
    local server=$1
    shift
    start_server "idle-$server" "$@"
    sleep 0.5
    local before after
    before=$(rss_kib "$SERVER_PID")
    local log=$OUT/idle-$server-$RUN.load
    "$LOAD" idle --port "$PORT" --conns "$IDLE_CONNS" --hold "$IDLE_HOLD" --timeout 120 --label idle >"$log" &
    local load=$!
    for _ in $(seq 1200); do
        grep -q '"event":"connected"' "$log" && break
        kill -0 "$load" 2>/dev/null || break
        sleep 0.1
    done
    sleep 1 # let deferred deletes and the worker hand-overs settle
    after=$(rss_kib "$SERVER_PID")
    wait "$load" || true
    stop_server
    emit idle "$server" "$(tail -n 1 "$log")" "\"rss_before_kib\":$before,\"rss_after_kib\":$after"
}

cpu_delta() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", b - a}'; }

# up_direct_run CASE SERVER CONNS DEPTH: sbload upstream straight at the running fast_upstream.
up_direct_run() {
    local case=$1 server=$2 conns=$3 depth=$4
    wait_quiet
    local r u0 u1
    u0=$(cpu_s "$UP_PID")
    r=$("$LOAD" upstream --port "$UP_PORT" --conns "$conns" --depth "$depth" --duration "$UP_DURATION" \
        --warmup "$WARMUP" --timeout 60 --label "$case" || true)
    u1=$(cpu_s "$UP_PID")
    emit "$case" "$server" "$r" "\"upstream_cpu_s\":$(cpu_delta "$u0" "$u1")"
}

# up_sb_run CASE SERVER CONNS DEPTH METHOD: a fresh Switchboard with $CATALOG, sbload ws through it.
up_sb_run() {
    local case=$1 server=$2 conns=$3 depth=$4 method=$5
    start_server "$case-$server" "$SB" --headless --port 0 --catalog "$CATALOG"
    local r c0 c1 u0 u1
    c0=$(cpu_s "$SERVER_PID")
    u0=$(cpu_s "$UP_PID")
    r=$("$LOAD" ws --port "$PORT" --conns "$conns" --depth "$depth" --duration "$UP_DURATION" \
        --warmup "$WARMUP" --timeout 60 --method "$method" --label "$case" || true)
    c1=$(cpu_s "$SERVER_PID")
    u1=$(cpu_s "$UP_PID")
    stop_server
    emit "$case" "$server" "$r" "\"server_cpu_s\":$(cpu_delta "$c0" "$c1"),\"upstream_cpu_s\":$(cpu_delta "$u0" "$u1")"
}

# upstreamslow: one Switchboard, echo alone, then echo beside SLOW_CONNS slow up.echo callers.
up_slow_run() {
    start_upstream upstreamslow --delay-ms "$SLOW_DELAY_MS"
    start_server upstreamslow-switchboard "$SB" --headless --port 0 --catalog "$CATALOG" \
        --config "$SB_HOME/slow.json"
    sleep 0.5
    local alone loaded rss_before rss_peak rss_after c0 c1
    alone=$("$LOAD" ws --port "$PORT" --conns 10 --depth 1 --duration "$UP_DURATION" --warmup "$WARMUP" \
        --timeout 60 --label upstreamslow-echo-alone || true)
    rss_before=$(rss_kib "$SERVER_PID")
    c0=$(cpu_s "$SERVER_PID")
    # The slow callers connect (SLOW_CONNS handshakes, 64 at a time) and fill
    # up during RAMP seconds, then run through the whole echo measurement.
    local ramp=2
    local slow_log=$OUT/upstreamslow-slow-$RUN.json
    "$LOAD" ws --port "$PORT" --conns "$SLOW_CONNS" --depth 1 --method up.echo --warmup "$ramp" \
        --duration "$(awk -v w="$WARMUP" -v d="$UP_DURATION" 'BEGIN{print w + d + 1}')" --timeout 120 \
        --label upstreamslow-slow >"$slow_log" &
    local slow=$!
    BG_PIDS=("$slow")
    rss_peak=$rss_before
    (
        peak=0
        while kill -0 "$slow" 2>/dev/null; do
            v=$(rss_kib "$SERVER_PID" || echo 0)
            [ "${v:-0}" -gt "$peak" ] && peak=$v && echo "$peak" >"$OUT/upstreamslow-rss-$RUN"
            sleep 0.2
        done
    ) &
    local sampler=$!
    BG_PIDS+=("$sampler")
    sleep "$ramp"
    loaded=$("$LOAD" ws --port "$PORT" --conns 10 --depth 1 --duration "$UP_DURATION" --warmup "$WARMUP" \
        --timeout 60 --label upstreamslow-echo-loaded || true)
    wait "$slow" || true
    wait "$sampler" || true
    BG_PIDS=()
    c1=$(cpu_s "$SERVER_PID")
    [ -s "$OUT/upstreamslow-rss-$RUN" ] && rss_peak=$(cat "$OUT/upstreamslow-rss-$RUN")
    sleep 1 # closed connections and finished calls released
    rss_after=$(rss_kib "$SERVER_PID")
    stop_server
    stop_upstream
    emit upstreamslow switchboard-echo-alone "$alone"
    emit upstreamslow switchboard-echo-loaded "$loaded"
    emit upstreamslow switchboard-slow "$(tail -n 1 "$slow_log")" \
        "\"delay_ms\":$SLOW_DELAY_MS,\"rss_before_kib\":$rss_before,\"rss_peak_kib\":$rss_peak,\"rss_after_kib\":$rss_after,\"server_cpu_s\":$(cpu_delta "$c0" "$c1")"
}

for ROUND in $(seq "$ROUNDS"); do
    echo "== round $ROUND/$ROUNDS"
    RUN=r$ROUND
    if has_case ws50x16; then
        ws_run ws50x16 qt-echo 50 16 "$B/bench_qt_ws_echo" 0
        ws_run ws50x16 switchboard 50 16 "$SB" --headless --port 0
    fi
    if has_case ws50x1; then
        ws_run ws50x1 qt-echo 50 1 "$B/bench_qt_ws_echo" 0
        ws_run ws50x1 switchboard 50 1 "$SB" --headless --port 0
    fi
    if has_case ws1x1; then
        ws_run ws1x1 qt-echo 1 1 "$B/bench_qt_ws_echo" 0
        ws_run ws1x1 switchboard 1 1 "$SB" --headless --port 0
    fi
    if has_case idle; then
        idle_run qt-echo "$B/bench_qt_ws_echo" 0
        idle_run switchboard "$SB" --headless --port 0 --config "$SB_HOME/idle.json"
    fi
    if has_case http50; then
        http_run http50 qt-http "$B/bench_qt_http_health" 0
        http_run http50 switchboard "$SB" --headless --port 0
    fi
    if has_case workers; then
        for depth in 16 1; do
            ws_run "workers-50x$depth" switchboard-w1 50 "$depth" "$SB" --headless --port 0 --config "$SB_HOME/workers1.json"
            ws_run "workers-50x$depth" switchboard-w2 50 "$depth" "$SB" --headless --port 0 --config "$SB_HOME/workers2.json"
        done
    fi
    if has_case upstream50x16; then
        start_upstream upstream50x16
        up_direct_run upstream50x16 direct 50 1
        up_sb_run upstream50x16 switchboard 50 16 up.echo
        up_direct_run upstream50x16 direct-pipelined 50 16
        stop_upstream
    fi
    if has_case upstream1x1; then
        start_upstream upstream1x1
        up_direct_run upstream1x1 direct 1 1
        up_sb_run upstream1x1 switchboard-echo 1 1 echo
        up_sb_run upstream1x1 switchboard 1 1 up.echo
        stop_upstream
    fi
    if has_case upstreamslow; then
        up_slow_run
    fi
    if has_case beside-idle; then
        for n in $IDLE_LEVELS; do
            for server in $BESIDE_SERVERS; do
                beside_run "$server" "$n"
            done
        done
        for server in $BESIDE_SERVERS; do
            handshake_run "$server"
        done
    fi
done

python3 - "$RESULTS" "$SB_KIND" <<'PY' | tee "$OUT/summary.md"
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
kind = sys.argv[2]

def runs(case, server):
    return [r for r in rows if r["case"] == case and r["server"] == server]

def stat(values):
    if not values:
        return None
    return statistics.median(values), min(values), max(values)

def fmt(s, unit="", digits=0):
    if s is None:
        return "n/a"
    m, lo, hi = s
    f = f"{{:,.{digits}f}}"
    return f"{f.format(m)}{unit} ({f.format(lo)}–{f.format(hi)})"

def errors(case, server):
    n = sum(r.get("errors", 0) for r in runs(case, server))
    return "" if n == 0 else f" **{n} errors: {runs(case, server)[0].get('first_error', '')[:80]}**"

print(f"Switchboard measured: {kind}. Medians of {max([r['round'] for r in rows] or [0])} rounds (min–max).\n")
BESIDE_CASES = ("beside-idle", "beside-idle-handshakes")
classic = any(r["case"] not in BESIDE_CASES for r in rows)
if classic:
    print("| case | baseline | Switchboard | ratio (median) | target | met |")
    print("|---|---|---|---|---|---|")

def line(case, label, base, metric, unit, target, higher_better, digits=0):
    b = stat([r[metric] for r in runs(case, base)])
    s = stat([r[metric] for r in runs(case, "switchboard")])
    if b is None and s is None:
        return
    ratio = s[0] / b[0] if b and s and b[0] else float("nan")
    met = ratio >= target if higher_better else ratio <= target
    sign = "≥" if higher_better else "≤"
    print(f"| {label} | {fmt(b, unit, digits)}{errors(case, base)} | {fmt(s, unit, digits)}{errors(case, 'switchboard')} "
          f"| {ratio:.2f}× | {sign} {target}× | {'yes' if met else 'NO'} |")

line("ws50x16", "50 conns × depth 16, msgs/s", "qt-echo", "msgs_per_s", "", 0.9, True)
line("ws50x1", "50 conns × depth 1, msgs/s", "qt-echo", "msgs_per_s", "", 1.0, True)
line("ws1x1", "1 conn × depth 1, p50 latency", "qt-echo", "p50_us", " µs", 1.2, False, 1)
line("http50", "GET /health, 50 keep-alive conns, req/s", "qt-http", "msgs_per_s", "", 1.0, True)

idle_b, idle_s = runs("idle", "qt-echo"), runs("idle", "switchboard")
if idle_b or idle_s:
    def per_conn(r):
        return (r["rss_after_kib"] - r["rss_before_kib"]) / max(r["connected"], 1)
    b, s = stat([per_conn(r) for r in idle_b]), stat([per_conn(r) for r in idle_s])
    ratio = s[0] / b[0] if b and s and b[0] else float("nan")
    held_s = stat([r["held"] for r in idle_s])
    held_b = stat([r["held"] for r in idle_b])
    attempted = (idle_s or idle_b)[0]["attempted"]
    print(f"| {attempted} idle conns: held | {fmt(held_b)} | {fmt(held_s)} | | all held | "
          f"{'yes' if held_s and held_s[1] == attempted else 'NO'} |")
    print(f"| idle: RSS per connection | {fmt(b, ' KiB', 1)} | {fmt(s, ' KiB', 1)} | {ratio:.2f}× | ≤ 1.0× | "
          f"{'yes' if ratio <= 1.0 else 'NO'} |")
    cb, cs = stat([r["connect_s"] for r in idle_b]), stat([r["connect_s"] for r in idle_s])
    print(f"| idle: time to open all | {fmt(cb, ' s', 2)} | {fmt(cs, ' s', 2)} | | | |")

for depth in (16, 1):
    case = f"workers-50x{depth}"
    w1 = stat([r["msgs_per_s"] for r in runs(case, "switchboard-w1")])
    w2 = stat([r["msgs_per_s"] for r in runs(case, "switchboard-w2")])
    if w1 or w2:
        ratio = w2[0] / w1[0] if w1 and w2 and w1[0] else float("nan")
        print(f"| 50 × {depth}: workerThreads 1 → 2, msgs/s | {fmt(w1)}{errors(case, 'switchboard-w1')} | "
              f"{fmt(w2)}{errors(case, 'switchboard-w2')} | {ratio:.2f}× | | |")

# Upstream cases: up.echo served by bench/fast_upstream through Switchboard.
line("upstream50x16", "up.echo via upstream, 50 conns × depth 16, calls/s (vs the upstream direct, 50 keep-alive conns)",
     "direct", "msgs_per_s", "", 0.5, True)

def by_round(case, server):
    return {r["round"]: r for r in runs(case, server)}

d, e, s = (by_round("upstream1x1", x) for x in ("direct", "switchboard-echo", "switchboard"))
if d or e or s:
    med = lambda rs, k: statistics.median([r[k] for r in rs.values()]) if rs else float("nan")
    bound = med(d, "p50_us") + 1.2 * med(e, "p50_us")
    ratio = med(s, "p50_us") / bound if bound else float("nan")
    per_round = [s[k]["p50_us"] / (d[k]["p50_us"] + 1.2 * e[k]["p50_us"]) for k in s if k in d and k in e]
    spread = f" (rounds {min(per_round):.2f}–{max(per_round):.2f})" if per_round else ""
    print(f"| up.echo via upstream, 1 conn × depth 1, p50 latency (bound: upstream direct p50 + 1.2 × Switchboard echo p50) "
          f"| {fmt(stat([r['p50_us'] for r in d.values()]), ' µs', 1)}{errors('upstream1x1', 'direct')} + 1.2 × "
          f"{fmt(stat([r['p50_us'] for r in e.values()]), ' µs', 1)}{errors('upstream1x1', 'switchboard-echo')} = {bound:.1f} µs "
          f"| {fmt(stat([r['p50_us'] for r in s.values()]), ' µs', 1)}{errors('upstream1x1', 'switchboard')} "
          f"| {ratio:.2f}× of the bound{spread} | ≤ 1.0× | {'yes' if ratio <= 1.0 else 'NO'} |")

alone, loaded, slow = (by_round("upstreamslow", x) for x in
                       ("switchboard-echo-alone", "switchboard-echo-loaded", "switchboard-slow"))
n = next(iter(slow.values()))["conns"] if slow else "?"
delay = next(iter(slow.values())).get("delay_ms", "?") if slow else "?"
if alone or loaded:
    per_round = [loaded[k]["p99_us"] / alone[k]["p99_us"] for k in loaded if k in alone and alone[k]["p99_us"]]
    ratio = statistics.median(per_round) if per_round else float("nan")
    spread = f" (rounds {min(per_round):.2f}–{max(per_round):.2f})" if per_round else ""
    print(f"| echo p99, 10 conns, alone → beside {n} conns each calling up.echo (upstream {delay} ms per call) "
          f"| {fmt(stat([r['p99_us'] for r in alone.values()]), ' µs', 1)}{errors('upstreamslow', 'switchboard-echo-alone')} "
          f"| {fmt(stat([r['p99_us'] for r in loaded.values()]), ' µs', 1)}{errors('upstreamslow', 'switchboard-echo-loaded')} "
          f"| {ratio:.2f}×{spread} | ≤ 2.0× | {'yes' if ratio <= 2.0 else 'NO'} |")
if slow:
    rs = list(slow.values())
    print(f"| the {n} slow callers: calls/s; p50 | | {fmt(stat([r['msgs_per_s'] for r in rs]))}; "
          f"{fmt(stat([r['p50_us'] / 1000 for r in rs]), ' ms', 1)}{errors('upstreamslow', 'switchboard-slow')} | | | |")
    if max(r.get("connect_s", 0) for r in rs) > 1.5:
        print("| note: the slow callers took over 1.5 s to connect, so part of the echo measurement ran before their "
              "load was complete | | | | | |")
    grow = stat([(r["rss_peak_kib"] - r["rss_before_kib"]) / max(r["conns"], 1) for r in rs])
    print(f"| Switchboard RSS before → peak during → after the slow load | "
          f"{fmt(stat([r['rss_before_kib'] / 1024 for r in rs]), ' MiB', 1)} | "
          f"{fmt(stat([r['rss_peak_kib'] / 1024 for r in rs]), ' MiB', 1)} → "
          f"{fmt(stat([r['rss_after_kib'] / 1024 for r in rs]), ' MiB', 1)} | "
          f"{fmt(grow, ' KiB', 1)} per slow caller (connection + call) | | |")

pip = stat([r["msgs_per_s"] for r in runs("upstream50x16", "direct-pipelined")])
if pip:
    print(f"\nfast_upstream alone, 50 conns pipelining 16 requests each (its ceiling here): {fmt(pip)} calls/s")

up_cpu = []
for case in ("upstream50x16", "upstream1x1"):
    for server in ("direct", "direct-pipelined", "switchboard-echo", "switchboard"):
        rs = [r for r in runs(case, server) if r.get("received")]
        if rs:
            parts = [f"{k.split('_')[0]} {statistics.median([1e6 * r[k] / r['received'] for r in rs]):.1f}"
                     for k in ("server_cpu_s", "upstream_cpu_s") if all(k in r for r in rs)]
            up_cpu.append(f"  {case:14} {server:17} " + ", ".join(parts))
if up_cpu:
    print("\nCPU per call in the upstream cases (µs, user + system, whole run incl. warm-up; median; "
          "server = Switchboard, upstream = fast_upstream):")
    print("\n".join(up_cpu))

if classic:
    print("\nServer CPU per message (µs, user + system of all threads, whole run incl. warm-up; median):")
for case in ("ws50x16", "ws50x1", "ws1x1", "http50", "workers-50x16", "workers-50x1"):
    parts = []
    for server in ("qt-echo", "qt-http", "switchboard", "switchboard-w1", "switchboard-w2"):
        rs = [r for r in runs(case, server) if r.get("received") and "server_cpu_s" in r]
        if rs:
            v = statistics.median([1e6 * r["server_cpu_s"] / r["received"] for r in rs])
            parts.append(f"{server} {v:.1f}")
    if parts:
        print(f"  {case:14} " + ", ".join(parts))

busy = [r.get("busy_before", 0) for r in rows]
if busy:
    print(f"\nMachine busy before the runs (other processes, % of all CPUs): median {statistics.median(busy):.0f}, max {max(busy)}")
if classic:
    print("\nLatency (median of runs, µs): case server p50 / p99 / max")
for case in ("ws50x16", "ws50x1", "ws1x1", "http50"):
    for server in ("qt-echo", "qt-http", "switchboard"):
        rs = runs(case, server)
        if rs:
            med = lambda k: statistics.median([r[k] for r in rs])
            print(f"  {case:8} {server:12} {med('p50_us'):9.1f} / {med('p99_us'):9.1f} / {med('max_us'):9.1f}")
for case, servers in (("upstream50x16", ("direct", "direct-pipelined", "switchboard")),
                      ("upstream1x1", ("direct", "switchboard-echo", "switchboard")),
                      ("upstreamslow", ("switchboard-echo-alone", "switchboard-echo-loaded", "switchboard-slow"))):
    for server in servers:
        rs = runs(case, server)
        if rs:
            med = lambda k: statistics.median([r[k] for r in rs])
            print(f"  {case:13} {server:23} {med('p50_us'):9.1f} / {med('p99_us'):9.1f} / {med('max_us'):9.1f}")

# beside-idle: 50 x 1 and 50 x 16 beside N idle connections, per server.
beside = [r for r in rows if r["case"] == "beside-idle"]
if beside:
    LABELS = {"switchboard": "Switchboard", "switchboard-qtloop": 'Switchboard, "eventLoop": "qt"',
              "qt-echo": "plain Qt (QWebSocketServer)", "beast-1t": "Boost.Beast example, 1 thread"}
    servers = list(dict.fromkeys(r["server"] for r in beside))
    levels = sorted({r["idle"] for r in beside})
    loops = {r["server"]: sorted({x["event_loop"] for x in beside if x["server"] == r["server"] and "event_loop" in x})
             for r in beside}

    def label(server):
        # The event loop Switchboard said it runs on, when it said so.
        if server == "switchboard" and loops.get(server):
            return f"Switchboard ({'/'.join(loops[server])})"
        return LABELS.get(server, server)

    def cell(server, n, depth):
        return [r for r in beside if r["server"] == server and r["idle"] == n and r.get("depth") == depth]

    def med(rs, key):
        vals = [r[key] for r in rs if key in r]
        return statistics.median(vals) if vals else float("nan")

    def ratio(num, den, depth, n_num, n_den=None):
        """Median over median, and the min–max of the same ratio round by round."""
        a = cell(num, n_num, depth)
        b = cell(den, n_num if n_den is None else n_den, depth)
        if not a or not b:
            return None
        m = med(a, "msgs_per_s") / med(b, "msgs_per_s") if med(b, "msgs_per_s") else float("nan")
        rb = {r["round"]: r["msgs_per_s"] for r in b}
        per_round = [r["msgs_per_s"] / rb[r["round"]] for r in a if rb.get(r["round"])]
        return m, (min(per_round), max(per_round)) if per_round else None

    def fmt_ratio(x):
        if x is None:
            return "n/a"
        m, spread = x
        return f"{m:.2f}×" + (f" ({spread[0]:.2f}–{spread[1]:.2f})" if spread else "")

    def errs(rs):
        n = sum(r.get("errors", 0) for r in rs)
        return f" **{n} errors: {next(r.get('first_error', '') for r in rs if r.get('errors'))[:80]}**" if n else ""

    def held(server, n):
        rs = cell(server, n, 1)
        if n == 0 or not rs:
            return ""
        worst = min(r.get("idle_held", 0) for r in rs)
        e = sum(r.get("idle_errors", 0) for r in rs)
        text = f"{worst:,} of {n:,}" if worst == n else f"**{worst:,} of {n:,} (fewest)**"
        if e:
            text += f" **{e} errors: {next(r.get('idle_first_error', '') for r in rs if r.get('idle_errors'))[:80]}**"
        return text

    rounds = max(r["round"] for r in beside)
    print(f"\n### 50 × 1 and 50 × 16 beside N idle WebSocket connections ({rounds} round{'s' if rounds > 1 else ''}; "
          "medians, min–max)\n")
    print("kept: the server's median at N over its own median at N = 0 (min–max of that ratio round by round).\n")
    print("| server | idle N | 50×1 msgs/s | kept | p50 / p99 µs | 50×16 msgs/s | kept | p50 / p99 µs | idle held to the end |")
    print("|---|---|---|---|---|---|---|---|---|")
    for server in servers:
        for n in levels:
            parts = []
            for depth in (1, 16):
                rs = cell(server, n, depth)
                parts.append(f"{fmt(stat([r['msgs_per_s'] for r in rs]))}{errs(rs)}")
                parts.append(fmt_ratio(ratio(server, server, depth, n, 0)) if n else "")
                parts.append(f"{med(rs, 'p50_us'):,.0f} / {med(rs, 'p99_us'):,.0f}" if rs else "n/a")
            print(f"| {label(server)} | {n:,} | " + " | ".join(parts) + f" | {held(server, n)} |")

    others = [s for s in ("beast-1t", "switchboard-qtloop", "qt-echo") if s in servers]
    if "switchboard" in servers and others:
        print("\nSwitchboard's msgs/s over the other servers' at the same N (ratio of medians; min–max round by round):\n")
        print("| idle N | " + " | ".join(f"50×{d}: ÷ {label(o)}" for o in others for d in (1, 16)) + " |")
        print("|---|" + "---|" * (2 * len(others)))
        for n in levels:
            print(f"| {n:,} | " + " | ".join(fmt_ratio(ratio("switchboard", o, d, n)) for o in others for d in (1, 16)) + " |")

    nmax = levels[-1]
    shakes = [r for r in rows if r["case"] == "beside-idle-handshakes"]
    hs_conns = shakes[0].get("attempted") if shakes else None
    hs_parallel = shakes[0].get("parallel") if shakes else None
    hs_head = f"{hs_conns:,} handshakes ({hs_parallel} in flight)" if hs_conns else "handshakes"
    print(f"\nMemory with {nmax:,} idle connections, and the time to open many on a fresh server:\n")
    print(f"| server | RSS before | RSS with {nmax:,} idle | per idle connection | {hs_head} |")
    print("|---|---|---|---|---|")
    per_conn = {}
    hs_time = {}
    for server in servers:
        rs = [r for r in cell(server, nmax, 1)]
        per_conn[server] = stat([(r["rss_idle_kib"] - r["rss_before_kib"]) / nmax for r in rs if nmax]) if rs else None
        hs = [r for r in shakes if r["server"] == server]
        hs_time[server] = stat([r["connect_s"] for r in hs if "connect_s" in r])
        hs_text = fmt(hs_time[server], " s", 2) + errs(hs)
        if hs and min(r.get("connected", 0) for r in hs) < hs[0].get("attempted", 0):
            hs_text += f" **fewest connected: {min(r.get('connected', 0) for r in hs):,}**"
        print(f"| {label(server)} | {fmt(stat([r['rss_before_kib'] / 1024 for r in rs]), ' MiB', 1)} "
              f"| {fmt(stat([r['rss_idle_kib'] / 1024 for r in rs]), ' MiB', 1)} "
              f"| {fmt(per_conn[server], ' KiB', 1)} | {hs_text} |")

    print("\nTargets of the issue (Switchboard):\n")
    print("| target | measured | met |")
    print("|---|---|---|")
    yesno = lambda ok: "n/a" if ok is None else ("met" if ok else "**missed**")
    near_10k = [n for n in levels if 5000 <= n <= 15000] or [nmax]
    for n in near_10k:
        for depth in (1, 16):
            k = ratio("switchboard", "switchboard", depth, n, 0) if 0 in levels else None
            print(f"| beside 10,000 idle keeps ≥ 0.9× of its alone figure — at N = {n:,}, 50×{depth} "
                  f"| {fmt_ratio(k)} | {yesno(None if k is None else k[0] >= 0.9)} |")
    for n in near_10k:
        for depth in (1, 16):
            b = ratio("switchboard", "beast-1t", depth, n) if "beast-1t" in servers else None
            print(f"| ≥ 1.2× Beast (1 thread) beside the same idle load — at N = {n:,}, 50×{depth} "
                  f"| {fmt_ratio(b)} | {yesno(None if b is None else b[0] >= 1.2)} |")
    pc = per_conn.get("switchboard")
    print(f"| ≤ 8 KiB per idle connection (at N = {nmax:,}) | {fmt(pc, ' KiB', 1)} | {yesno(None if pc is None else pc[0] <= 8)} |")
    ht = hs_time.get("switchboard")
    ht_note = "" if hs_conns == 10000 else f" ({hs_conns} handshakes, not 10,000: not comparable)"
    print(f"| 10,000 handshakes (64 in flight) ≤ 1.0 s | {fmt(ht, ' s', 2)}{ht_note} "
          f"| {yesno(None if ht is None or hs_conns != 10000 else ht[0] <= 1.0)} |")
    if "switchboard-qtloop" in servers and 0 in levels:
        parts, ok = [], True
        for depth in (1, 16):
            a, q = cell("switchboard", 0, depth), cell("switchboard-qtloop", 0, depth)
            if a and q:
                within = med(a, "msgs_per_s") >= min(r["msgs_per_s"] for r in q)
                ok = ok and within
                parts.append(f"50×{depth}: {fmt_ratio(ratio('switchboard', 'switchboard-qtloop', depth, 0))} of Qt's loop")
        print(f"| alone figures do not regress beyond the run-to-run spread — here only against Qt's own loop "
              f"in the same binary (N = 0; the 1×1 p50 and the previous commit: the ws cases) | {'; '.join(parts)} "
              f"| {'n/a (one round: no spread)' if rounds < 2 else 'within the spread' if ok else '**below the spread**'} |")
    if "beast-1t" in servers:
        print("\nBeast's example sends every message back as it came, with no JSON parsing or building; Switchboard and "
              "plain Qt parse each request and build a JSON-RPC reply. The comparison is slightly in Beast's favour.")
    bb = [r.get("busy_before", 0) for r in beside + shakes]
    print(f"Machine busy before each server start (% of all CPUs): median {statistics.median(bb):.0f}, max {max(bb)}.")
PY
echo "raw results: $RESULTS"
if has_case beside-idle; then
    # Debian's matplotlib lives with Debian's interpreter, which may not be the first python3 on the PATH.
    plot_python=
    for py in python3 /usr/bin/python3; do
        if "$py" -c 'import matplotlib' 2>/dev/null; then plot_python=$py; break; fi
    done
    if [ -n "$plot_python" ]; then
        "$plot_python" bench/plot_beside_idle.py "$RESULTS" "$OUT/beside-idle.png" >/dev/null &&
            echo "plot: $OUT/beside-idle.png (for docs/: $plot_python bench/plot_beside_idle.py $RESULTS docs/beside-idle.png)"
    else
        echo "note: no python3 with matplotlib (python3-matplotlib); no plot" >&2
    fi
fi
echo "bench/run.sh took $(( $(date +%s) - started )) s"
