#!/usr/bin/env bash
# Soak: the headless server with its defaults under a steady WebSocket load
# plus a churn of short-lived connections (handshake, a few requests, reset;
# some abort on purpose), watching its memory and descriptors. Results and
# the method: docs/ROBUSTNESS.md ("Soak").
#
#   bench/soak.sh                          build (Release) and soak for 60 s
#   DURATION=15 SKIP_BUILD=1 bench/soak.sh  short run on an existing build
#
# Environment: BUILD_DIR (build-bench), SKIP_BUILD=1, SWITCHBOARD_BIN (default:
# the build's switchboard), DURATION (60 s of load), CONNS (50), DEPTH (16),
# CHURN_RATE (200 new connections/s), CHURN_REQUESTS (3), CHURN_ABORT_PCT (20),
# WARMUP_S (10: RSS growth is measured from this second of the load to its
# end), RSS_GROWTH_MAX_PCT (10), FD_MARGIN (5 descriptors over the count
# before the load), AFTER_S (5 s watched after the load).
#
# Exit code 1 when the load client saw any error (a wrong reply, a failed
# handshake, a dropped connection, a request left unanswered), when the
# descriptors did not come back to the count before the load (+ FD_MARGIN)
# within AFTER_S seconds, or when RSS grew more than RSS_GROWTH_MAX_PCT
# after the warm-up. Output: a summary on stdout; per-second samples, the
# load client's lines and the server's log under
# $BUILD_DIR/bench-results/soak-<time>/.
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_DIR=${BUILD_DIR:-build-bench}
DURATION=${DURATION:-60}
CONNS=${CONNS:-50}
DEPTH=${DEPTH:-16}
CHURN_RATE=${CHURN_RATE:-200}
CHURN_REQUESTS=${CHURN_REQUESTS:-3}
CHURN_ABORT_PCT=${CHURN_ABORT_PCT:-20}
WARMUP_S=${WARMUP_S:-10}
RSS_GROWTH_MAX_PCT=${RSS_GROWTH_MAX_PCT:-10}
FD_MARGIN=${FD_MARGIN:-5}
AFTER_S=${AFTER_S:-5}

started=$(date +%s)
if [ "${SKIP_BUILD:-0}" != 1 ]; then
    cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSWITCHBOARD_BUILD_BENCH=ON \
        -DSWITCHBOARD_BUILD_TESTS=OFF -DSWITCHBOARD_BUILD_GUI=OFF -DSWITCHBOARD_SANITIZE=OFF >/dev/null
    cmake --build "$BUILD_DIR" --target switchboard sbload
fi
built=$(date +%s)

LOAD=$BUILD_DIR/bench/sbload
SB=${SWITCHBOARD_BIN:-$BUILD_DIR/src/app/switchboard}
OUT=$BUILD_DIR/bench-results/soak-$(date +%Y%m%d-%H%M%S)
mkdir -p "$OUT"
SB_HOME=$(mktemp -d)
SERVER_PID=
LOAD_PID=
cleanup() {
    for pid in "$LOAD_PID" "$SERVER_PID"; do
        if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
            kill -KILL "$pid" 2>/dev/null || true
        fi
    done
    rm -rf "$SB_HOME"
}
trap cleanup EXIT

ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

# A private HOME: persisted method switches of this machine do not leak in.
HOME=$SB_HOME XDG_CONFIG_HOME=$SB_HOME/config "$SB" --headless --port 0 >"$OUT/server.out" 2>"$OUT/server.err" &
SERVER_PID=$!
PORT=
for _ in $(seq 200); do
    PORT=$(sed -n 's#^listening http://[^:]*:\([0-9]*\)$#\1#p' "$OUT/server.out" | head -n 1 || true)
    [ -n "$PORT" ] && break
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.05
done
if [ -z "$PORT" ]; then
    echo "error: $SB did not start; see $OUT/server.err" >&2
    cat "$OUT/server.err" >&2
    exit 1
fi

fds() { ls "/proc/$SERVER_PID/fd" | wc -l; }
rss_kib() { sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$SERVER_PID/status"; }
SAMPLES=$OUT/samples.tsv
printf 'phase\tt_s\trss_kib\tfds\n' >"$SAMPLES"
sample() { # PHASE T
    printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$(rss_kib)" "$(fds)" >>"$SAMPLES"
}

{
    echo "date: $(date -u +%FT%TZ)"
    echo "git: $(git rev-parse --short HEAD 2>/dev/null || echo none) $(git diff --quiet 2>/dev/null || echo '(with local changes)')"
    echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-) x $(nproc)"
    echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "server: $SB (pid $SERVER_PID, port $PORT)"
    echo "soak: ${DURATION}s, $CONNS conns x depth $DEPTH, churn $CHURN_RATE/s x $CHURN_REQUESTS requests, ${CHURN_ABORT_PCT}% aborting"
} | tee "$OUT/setup.txt"

sleep 1 # the server settles (worker threads, first allocations)
sample before 0

"$LOAD" soak --port "$PORT" --conns "$CONNS" --depth "$DEPTH" --duration "$DURATION" --warmup 0 \
    --churn-rate "$CHURN_RATE" --churn-requests "$CHURN_REQUESTS" --churn-abort "$CHURN_ABORT_PCT" \
    --timeout $((DURATION + 60)) --label soak >"$OUT/sbload.jsonl" 2>"$OUT/sbload.err" &
LOAD_PID=$!
load_start=$(date +%s.%N)
elapsed() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b - a}'; }
next=1
while kill -0 "$LOAD_PID" 2>/dev/null; do
    # One sample a second on the load's clock, whatever sampling costs.
    sleep "$(awk -v a="$load_start" -v n="$next" -v now="$(date +%s.%N)" 'BEGIN{d = a + n - now; if (d < 0) d = 0; printf "%.3f", d}')"
    kill -0 "$LOAD_PID" 2>/dev/null || break
    sample load "$(elapsed "$load_start")"
    next=$((next + 1))
done
load_rc=0
wait "$LOAD_PID" || load_rc=$?
LOAD_PID=
load_end=$(date +%s.%N)
for _ in $(seq "$AFTER_S"); do
    sleep 1
    sample after "$(elapsed "$load_end")"
done
kill -0 "$SERVER_PID" 2>/dev/null || { echo "error: the server died during the soak; see $OUT/server.err" >&2; exit 1; }
kill -TERM "$SERVER_PID" 2>/dev/null || true
server_rc=0
wait "$SERVER_PID" || server_rc=$?
SERVER_PID=

status=0
python3 - "$OUT" "$load_rc" "$server_rc" "$WARMUP_S" "$RSS_GROWTH_MAX_PCT" "$FD_MARGIN" <<'PY' | tee "$OUT/summary.md" || status=$?
import json, sys
out, load_rc, server_rc, warmup, growth_max, fd_margin = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), \
    float(sys.argv[4]), float(sys.argv[5]), int(sys.argv[6])
lines = [json.loads(l) for l in open(f"{out}/sbload.jsonl") if l.strip()]
ticks = [l for l in lines if l.get("event") == "tick"]
result = next((l for l in reversed(lines) if l.get("mode") == "soak"), None)
rows = [l.rstrip("\n").split("\t") for l in open(f"{out}/samples.tsv")][1:]
samples = [(phase, float(t), int(rss), int(fds)) for phase, t, rss, fds in rows if rss and fds]
before = next(s for s in samples if s[0] == "before")
during = [s for s in samples if s[0] == "load"]
after = [s for s in samples if s[0] == "after"]
mib = lambda kib: f"{kib / 1024:.1f}"
failures = []

if result is None:
    failures.append("the load client printed no result")
    result = {}
print(f"load: {result.get('conns')} conns x depth {result.get('depth')}: {result.get('msgs_per_s', 0):,.0f} msgs/s "
      f"(p50 {result.get('p50_us', 0):,.0f} µs, p99 {result.get('p99_us', 0):,.0f} µs), "
      f"{result.get('received', 0):,} replies")
print(f"churn: {result.get('churn_opened', 0):,} opened ({result.get('churn_per_s', 0):.0f}/s), "
      f"{result.get('churn_completed', 0):,} completed, {result.get('churn_aborted', 0):,} aborted on purpose, "
      f"{result.get('churn_failed', 0)} failed, {result.get('churn_dropped', 0)} dropped by the server")
print(f"wrong replies: {result.get('wrong_replies', 'n/a')}, handshake failures: {result.get('handshake_failures', 'n/a')}, "
      f"errors: {result.get('errors', 'n/a')}" + (f" (first: {result['first_error'][:160]})" if result.get("first_error") else ""))
if result.get("wrong_replies", 1) != 0:
    failures.append(f"{result.get('wrong_replies')} wrong replies")
if result.get("errors", 1) != 0 or load_rc != 0:
    failures.append(f"load client: {result.get('errors')} errors, exit code {load_rc}")

curve = [before] + [s for s in during if round(s[1]) % 5 == 0] + ([during[-1]] if during and round(during[-1][1]) % 5 else [])
print("RSS (MiB) before and every 5 s of the load: "
      + ", ".join(("before" if s[0] == "before" else f"{s[1]:.0f}s") + f" {mib(s[2])}" for s in curve))
if after:
    print(f"RSS after the load: {mib(after[-1][2])} MiB ({after[-1][1]:.0f} s after)")
warm = next((s for s in during if s[1] >= warmup), None)
if warm and during and during[-1][1] > warm[1]:
    end = during[-1]
    growth = 100.0 * (end[2] - warm[2]) / warm[2]
    print(f"RSS growth after the warm-up: {mib(warm[2])} MiB at {warm[1]:.0f} s -> {mib(end[2])} MiB at "
          f"{end[1]:.0f} s: {growth:+.1f} % (limit {growth_max:g} %); peak {mib(max(s[2] for s in during))} MiB")
    if growth > growth_max:
        failures.append(f"RSS grew {growth:.1f} % after the warm-up (limit {growth_max:g} %)")
else:
    print(f"RSS growth after the warm-up: not measured (the load ended before second {warmup:g})")

peak = max([s[3] for s in during] or [before[3]])
back = next((s for s in after if s[3] <= before[3] + fd_margin), None)
print(f"descriptors: before {before[3]}, peak {peak}, after {after[-1][3] if after else 'n/a'}"
      + (f" (back within {back[1]:.0f} s)" if back else ""))
if not back:
    failures.append(f"descriptors did not come back to {before[3]} + {fd_margin} within {len(after)} s of the load")
if server_rc != 0:
    failures.append(f"the server exited with {server_rc} on SIGTERM")
if failures:
    print("SOAK FAILED: " + "; ".join(failures))
    sys.exit(1)
print("soak passed")
PY
warnings=$(grep -c -i 'warning' "$OUT/server.err" || true)
echo "server log: $warnings warning line(s) ($OUT/server.err)"
echo "raw data: $OUT (samples.tsv, sbload.jsonl)"
echo "bench/soak.sh took $(( $(date +%s) - started )) s (build $(( built - started )) s)"
exit "$status"
