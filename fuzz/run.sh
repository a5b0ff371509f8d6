#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan, switchboard_core
# instrumented too) into build-fuzz and runs each one.
#
#   fuzz/run.sh [seconds per target (60)] [target...]
#
# Targets: fuzz_requesthead fuzz_jsonrpc fuzz_dmrpc fuzz_catalog fuzz_httpreply (default: all).
# Seeds: fuzz/corpus/<target>/ (read only); what the fuzzer finds goes to
# build-fuzz/corpus/<target>/, crashes and leaks to build-fuzz/artifacts/.
# Reproduce one: build-fuzz/fuzz/<target> <artifact file>
# Environment: BUILD_DIR (build-fuzz), CC/CXX (clang-14/clang++-14),
# FUZZ_ARGS (more libFuzzer flags, e.g. "-runs=1000000"), SKIP_BUILD=1.
# Exit code: 0 when every target ran its time without a finding.
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_PER_TARGET=${1:-60}
[ $# -gt 0 ] && shift
TARGETS=("$@")
[ ${#TARGETS[@]} -eq 0 ] && TARGETS=(fuzz_requesthead fuzz_jsonrpc fuzz_dmrpc fuzz_catalog fuzz_httpreply)
BUILD_DIR=${BUILD_DIR:-build-fuzz}
export CC=${CC:-clang-14} CXX=${CXX:-clang++-14}
started=$(date +%s)

if [ "${SKIP_BUILD:-0}" != 1 ]; then
    # Debug keeps Q_ASSERT on; -O1 keeps the fuzzer fast.
    cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-g -O1" \
        -DSWITCHBOARD_BUILD_FUZZ=ON -DSWITCHBOARD_BUILD_TESTS=OFF -DSWITCHBOARD_BUILD_GUI=OFF \
        -DSWITCHBOARD_BUILD_BENCH=OFF -DSWITCHBOARD_SANITIZE=OFF >/dev/null
    cmake --build "$BUILD_DIR" --target "${TARGETS[@]}"
fi
built=$(date +%s)

declare -A DICT=([fuzz_httpreply]=http [fuzz_requesthead]=http [fuzz_jsonrpc]=json [fuzz_dmrpc]=json [fuzz_catalog]=catalog)
# Request heads up to 20,000 bytes reach the 16 KiB cap (431); the sessions
# stay fast with messages up to 2 KiB (a batch of hundreds of requests).
declare -A MAXLEN=([fuzz_httpreply]=8192 [fuzz_requesthead]=20000 [fuzz_jsonrpc]=2048 [fuzz_dmrpc]=2048 [fuzz_catalog]=4096)
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# No allocation stacks while fuzzing: Qt is built without frame pointers, so
# the fast unwinder records garbage frames, every malloc adds a new "unique"
# stack to ASan's stack depot, and the fuzzer slows down and grows by
# ~6 MB per 1,000 runs until it hits -rss_limit_mb. Findings are still
# reported; rerun an artifact with ASAN_OPTIONS=malloc_context_size=30 for
# the allocation and free stacks.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:malloc_context_size=0}
status=0
summary=()
for t in "${TARGETS[@]}"; do
    work=$BUILD_DIR/corpus/$t
    mkdir -p "$work" "$BUILD_DIR/artifacts" "$BUILD_DIR/logs"
    log=$BUILD_DIR/logs/$t.log
    echo "== $t: ${SECONDS_PER_TARGET} s"
    rc=0
    # New inputs go to the first corpus directory; the seeds stay untouched.
    "$BUILD_DIR/fuzz/$t" "$work" "fuzz/corpus/$t" -dict="fuzz/dict/${DICT[$t]}.dict" \
        -max_total_time="$SECONDS_PER_TARGET" -max_len="${MAXLEN[$t]}" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$BUILD_DIR/artifacts/$t-" ${FUZZ_ARGS:-} >"$log" 2>&1 || rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 || true)
    corpus=$(find "$work" -type f | wc -l)
    if [ "$rc" -ne 0 ]; then
        status=1
        grep -m1 -E 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error|SUMMARY' "$log" || true
        echo "   $t FAILED (exit $rc); log: $log; artifacts: $(ls "$BUILD_DIR/artifacts/$t-"* 2>/dev/null | tr '\n' ' ')"
    fi
    summary+=("$t: exit $rc, ${execs:-?} executions (${rate:-?}/s), ${cov:-cov: ?}, corpus $corpus")
done
echo "== summary"
printf '%s\n' "${summary[@]}"
echo "fuzz/run.sh: build $((built - started)) s, fuzzing $(( $(date +%s) - built )) s"
exit $status
