#!/usr/bin/env bash
# Switchboard against plain-Qt baselines, interleaved, on loopback.
# Results and the method: docs/PERFORMANCE.md.
#
#   bench/run.sh                 build (Release) and run every case, 3 rounds
#   ROUNDS=1 DURATION=3 bench/run.sh          quicker, noisier
#   CASES="ws50x1 http50" bench/run.sh        only some cases
#
# Cases: ws50x16 ws50x1 ws1x1 idle http50 workers
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
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_DIR=${BUILD_DIR:-build-bench}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-6}
WARMUP=${WARMUP:-1}
IDLE_CONNS=${IDLE_CONNS:-10000}
IDLE_HOLD=${IDLE_HOLD:-4}
CASES=${CASES:-"ws50x16 ws50x1 ws1x1 idle http50 workers"}
QUIET_MAX=${QUIET_MAX:-15}   # % CPU busy (all cores) tolerated before a run
QUIET_WAIT=${QUIET_WAIT:-60} # s waited at most for that

started=$(date +%s)
if [ "${SKIP_BUILD:-0}" != 1 ]; then
    cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSWITCHBOARD_BUILD_BENCH=ON \
        -DSWITCHBOARD_BUILD_TESTS=OFF -DSWITCHBOARD_BUILD_GUI=OFF -DSWITCHBOARD_SANITIZE=OFF >/dev/null
    targets=(switchboard sbload bench_qt_ws_echo bench_qt_http_health)
    [ -f src/app/commandline.cpp ] && [ -f src/app/headlessrunner.cpp ] && targets+=(bench_switchboard_host)
    cmake --build "$BUILD_DIR" --target "${targets[@]}"
fi

B=$BUILD_DIR/bench
LOAD=$B/sbload
OUT=$BUILD_DIR/bench-results/$(date +%Y%m%d-%H%M%S)
mkdir -p "$OUT"
RESULTS=$OUT/results.jsonl
SB_HOME=$(mktemp -d)
SERVER_PID=
cleanup() {
    if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -KILL "$SERVER_PID" 2>/dev/null || true
    fi
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
        exit 1
    fi
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
} | tee -a "$OUT/setup.txt"

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

has_case() { [[ " $CASES " == *" $1 "* ]]; }

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
PY
echo "raw results: $RESULTS"
echo "bench/run.sh took $(( $(date +%s) - started )) s"
