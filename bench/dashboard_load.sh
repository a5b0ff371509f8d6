#!/usr/bin/env bash
# The dashboard at many connections: GUI-thread CPU and input lag of the real
# window (Connections view in front) while sbload holds IDLE idle WebSocket
# connections and keeps BUSY busy ones echoing (bench/dashboard_load.cpp).
# Results and the method: docs/PERFORMANCE.md, "The dashboard at 15,000
# connections".
#
#   bench/dashboard_load.sh                 build and run every scenario, 3 rounds
#   ROUNDS=1 SECONDS_MEASURED=10 bench/dashboard_load.sh      quicker, noisier
#   BINARIES="before=/path/a after=/path/b" SKIP_BUILD=1 bench/dashboard_load.sh
#                                           two builds, interleaved per round
#   SUMMARIZE=<dir>/results.jsonl bench/dashboard_load.sh   the table of an earlier run
#
# Each run measures two windows of SECONDS_MEASURED: the GUI thread's CPU
# alone, then input lag with the probes (posted key presses every 50 ms,
# queued calls and a 10 ms timer), which cost CPU of their own.
# Scenarios (SCENARIOS): id      table sorted by Id (the default)
#                        msgsin  sorted by "Msgs in", descending (a live column)
#                        search  "/rpc" in the filter box: only the busy ones shown
#                        idle    sorted by Id, no busy connections (the table's own cost)
#                        drop    the idle ones from two processes (ids interleaved);
#                                afterwards one of them goes: half the rows leave
#                                from all over the table (--drop)
# Environment: BUILD_DIR (build-dash), ROUNDS (3), IDLE (15000), BUSY (50),
# DEPTH (1), SECONDS_MEASURED (20), SKIP_BUILD=1, QT_QPA_PLATFORM (offscreen;
# e.g. xcb under xvfb-run). Output: a table on stdout, raw JSON lines under
# $BUILD_DIR/dashboard-results/<time>/.
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_DIR=${BUILD_DIR:-build-dash}
ROUNDS=${ROUNDS:-3}
IDLE=${IDLE:-15000}
BUSY=${BUSY:-50}
DEPTH=${DEPTH:-1}
SECONDS_MEASURED=${SECONDS_MEASURED:-20}
SCENARIOS=${SCENARIOS:-"id msgsin search idle drop"}
export QT_QPA_PLATFORM=${QT_QPA_PLATFORM:-offscreen}

if [ -n "${SUMMARIZE:-}" ]; then
    RESULTS=$SUMMARIZE
else
    if [ "${SKIP_BUILD:-0}" != 1 ]; then
        cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSWITCHBOARD_BUILD_BENCH=ON \
            -DSWITCHBOARD_BUILD_GUI=ON -DSWITCHBOARD_BUILD_TESTS=OFF -DSWITCHBOARD_SANITIZE=OFF >/dev/null
        cmake --build "$BUILD_DIR" --target bench_dashboard_load sbload
    fi
    LOAD=$BUILD_DIR/bench/sbload
    BINARIES=${BINARIES:-"this=$BUILD_DIR/bench/bench_dashboard_load"}

    # One process holds every idle connection, the server as many and some.
    ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
    if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt $((IDLE + BUSY + 200)) ]; then
        IDLE=$(( $(ulimit -n) - BUSY - 200 ))
        echo "note: ulimit -n is $(ulimit -n); $IDLE idle connections" >&2
    fi

    OUT=$BUILD_DIR/dashboard-results/$(date +%Y%m%d-%H%M%S)
    mkdir -p "$OUT"
    RESULTS=$OUT/results.jsonl

    scenario_args() {
        case $1 in
        id) ARGS=(--sort Id --order asc) ;;
        msgsin) ARGS=(--sort "Msgs in" --order desc) ;;
        search) ARGS=(--search /rpc) ;;
        idle) ARGS=(--sort Id --order asc) ;;
        drop) ARGS=(--sort "Msgs in" --order desc --drop) ;;
        *) echo "unknown scenario $1" >&2; exit 2 ;;
        esac
    }

    echo "rounds=$ROUNDS idle=$IDLE busy=${BUSY}x$DEPTH windows=2x${SECONDS_MEASURED}s platform=$QT_QPA_PLATFORM"
    echo "before: $(uptime)"
    for round in $(seq "$ROUNDS"); do
        for scenario in $SCENARIOS; do
            scenario_args "$scenario"
            for entry in $BINARIES; do
                label=${entry%%=*}
                bin=${entry#*=}
                log=$OUT/$label-$scenario-$round
                # The idle ones on /idle, the busy ones on /rpc: the search scenario shows only the busy ones.
                busy=$BUSY
                [ "$scenario" = idle ] && busy=0
                if "$bin" --sbload "$LOAD" --idle "$IDLE" --busy "$busy" --depth "$DEPTH" \
                    --seconds "$SECONDS_MEASURED" --idle-path /idle --busy-path /rpc "${ARGS[@]}" >"$log.out" 2>"$log.err"; then
                    line=$(grep '"gui_cpu_pct"' "$log.out" | tail -n 1)
                    echo "{\"label\":\"$label\",\"scenario\":\"$scenario\",\"round\":$round,${line#\{}" >>"$RESULTS"
                    echo "$label $scenario round $round: $line"
                else
                    echo "error: $label $scenario round $round failed; see $log.err" >&2
                fi
            done
        done
    done
    echo "after: $(uptime)"

fi

python3 - "$RESULTS" <<'EOF'
import json, statistics, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
def fmt(values, digits=1):
    values = sorted(values)
    return f"{statistics.median(values):.{digits}f} ({values[0]:.{digits}f}–{values[-1]:.{digits}f})"
print()
print("| build | scenario | GUI thread CPU % | with probes | key wait p50 ms | key wait p99 ms | key wait max ms "
      "| queued call p99 ms | 10 ms timer late p99 ms | server msgs/s | machine busy % |")
print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
seen = []
for r in rows:
    if (r["label"], r["scenario"]) not in seen:
        seen.append((r["label"], r["scenario"]))
for label, scenario in sorted(seen, key=lambda k: (k[1], k[0])):
    rs = [r for r in rows if r["label"] == label and r["scenario"] == scenario]
    col = lambda k, d=1: fmt([r[k] for r in rs], d)
    print(f"| {label} | {scenario} ({rs[0]['shown']} of {rs[0]['rows']} shown) | {col('gui_cpu_pct')} "
          f"| {col('probed_gui_cpu_pct')} "
          f"| {col('key_p50_ms')} | {col('key_p99_ms')} | {col('key_max_ms')} | {col('call_p99_ms')} "
          f"| {col('timer_late_p99_ms')} | {col('msgs_per_s', 0)} | {col('machine_busy_pct', 0)} |")
drops = [r for r in rows if r.get("drop_rows")]
if drops:
    print()
    print("| build | rows that left at once | until the table showed it, s | 10 ms timer late p99 ms | max ms |")
    print("|---|---:|---:|---:|---:|")
    for label in dict.fromkeys(r["label"] for r in drops):
        rs = [r for r in drops if r["label"] == label]
        col = lambda k, d=1: fmt([r[k] for r in rs], d)
        print(f"| {label} | {col('drop_rows', 0)} | {col('drop_s', 2)} | {col('drop_timer_late_p99_ms')} "
              f"| {col('drop_timer_late_max_ms')} |")
print("\nmedian (min–max) over", max(r["round"] for r in rows), "rounds")
EOF
