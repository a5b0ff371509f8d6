#!/usr/bin/env bash
# Switchboard against plain-Qt baselines, interleaved, on loopback.
# Results and the method: docs/PERFORMANCE.md.
#
#   bench/run.sh                 build (Release) and run every case, 3 rounds
#   ROUNDS=1 DURATION=3 bench/run.sh          quicker, noisier
#   CASES="ws50x1 http50" bench/run.sh        only some cases
#
# Cases: ws50x16 ws50x1 ws1x1 idle http50 workers upstream50x16 upstream1x1 upstreamslow
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
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_DIR=${BUILD_DIR:-build-bench}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-6}
WARMUP=${WARMUP:-1}
IDLE_CONNS=${IDLE_CONNS:-10000}
IDLE_HOLD=${IDLE_HOLD:-4}
CASES=${CASES:-"ws50x16 ws50x1 ws1x1 idle http50 workers upstream50x16 upstream1x1 upstreamslow"}
UP_DURATION=${UP_DURATION:-3}
UP_THREADS=${UP_THREADS:-1}
SLOW_CONNS=${SLOW_CONNS:-1000}
SLOW_DELAY_MS=${SLOW_DELAY_MS:-100}
SLOW_UPSTREAM_CONNECTIONS=${SLOW_UPSTREAM_CONNECTIONS:-}
QUIET_MAX=${QUIET_MAX:-15}   # % CPU busy (all cores) tolerated before a run
QUIET_WAIT=${QUIET_WAIT:-60} # s waited at most for that

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

cat >"$SB_HOME/idle.json" <<EOF
{"limits": {"maxConnections": $((IDLE_CONNS + 2000)), "maxPendingSockets": $((IDLE_CONNS + 2000))}}
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

has_case() { [[ " $CASES " == *" $1 "* ]]; }

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
PY
echo "raw results: $RESULTS"
echo "bench/run.sh took $(( $(date +%s) - started )) s"
