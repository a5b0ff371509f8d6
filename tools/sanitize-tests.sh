#!/usr/bin/env bash
# Builds everything with AddressSanitizer + UndefinedBehaviorSanitizer
# (CMake option SWITCHBOARD_SANITIZE) into build-asan and runs the whole
# ctest suite there. Any report fails the test that produced it.
#
#   tools/sanitize-tests.sh [extra ctest arguments, e.g. -R front]
#
# Environment: BUILD_DIR (build-asan), BUILD_TYPE (Debug), JOBS (ctest -j, 1),
# CC/CXX (the compiler; GCC by default, clang works too).
# Leak reports that belong to Qt, glib or fontconfig (never to Switchboard
# code) are suppressed by tools/lsan.supp; see docs/ROBUSTNESS.md.
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_DIR=${BUILD_DIR:-build-asan}
BUILD_TYPE=${BUILD_TYPE:-Debug}
started=$(date +%s)

cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE="$BUILD_TYPE" -DSWITCHBOARD_SANITIZE=ON \
    -DSWITCHBOARD_BUILD_TESTS=ON -DSWITCHBOARD_BUILD_BENCH=OFF -DSWITCHBOARD_BUILD_FUZZ=OFF >/dev/null
cmake --build "$BUILD_DIR"
built=$(date +%s)

supp=$(pwd)/tools/lsan.supp
# halt_on_error: the first report ends the process, so ctest sees a failure.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1:abort_on_error=0:detect_stack_use_after_return=1:strict_string_checks=1:check_initialization_order=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$supp:print_suppressions=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:suppressions=$(pwd)/tools/ubsan.supp}
# Python's own interpreter is not instrumented; the e2e tests start the
# instrumented switchboard binary, which inherits these variables.
status=0
ctest --test-dir "$BUILD_DIR" --output-on-failure --timeout 900 -j "${JOBS:-1}" "$@" || status=$?
echo "sanitize-tests: build $((built - started)) s, tests $(( $(date +%s) - built )) s, exit $status"
exit $status
