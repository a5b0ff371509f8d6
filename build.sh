#!/usr/bin/env bash
# Switchboard developer entry point for Debian 12 / Ubuntu 22.04+.
#   ./build.sh run [switchboard flags...]   install dependencies, build, start Switchboard
#   ./build.sh test                         install dependencies, build, run every test
#   ./build.sh build                        install dependencies and build only
# Installs packages with apt-get (through sudo when not root). Set
# SWITCHBOARD_SKIP_DEPS=1 to skip that step, BUILD_DIR to build elsewhere.
set -euo pipefail
cd "$(dirname "$0")"

BUILD_DIR=${BUILD_DIR:-build}
BUILD_TYPE=${BUILD_TYPE:-RelWithDebInfo}

# What each package is for is listed in README.md ("Dependencies").
RUNTIME_BUILD_DEPS=(build-essential cmake ninja-build pkg-config
    qt6-base-dev qt6-websockets-dev qt6-httpserver-dev qt6-svg-dev libvalijson-dev)
TEST_DEPS=(python3 python3-websockets curl openssl json-schema-test-suite)

install_deps() {
    [ "${SWITCHBOARD_SKIP_DEPS:-0}" = 1 ] && return 0
    local missing=()
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    local sudo=()
    [ "$(id -u)" -eq 0 ] || sudo=(sudo)
    echo "Installing: ${missing[*]}"
    "${sudo[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

build() {
    cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE="$BUILD_TYPE" "$@"
    cmake --build "$BUILD_DIR"
}

command=${1:-}
[ $# -gt 0 ] && shift
case "$command" in
    run)
        install_deps "${RUNTIME_BUILD_DEPS[@]}"
        build -DSWITCHBOARD_BUILD_TESTS=OFF
        exec "$BUILD_DIR/src/app/switchboard" "$@"
        ;;
    test)
        install_deps "${RUNTIME_BUILD_DEPS[@]}" "${TEST_DEPS[@]}"
        build -DSWITCHBOARD_BUILD_TESTS=ON
        ctest --test-dir "$BUILD_DIR" --output-on-failure --timeout 600
        ;;
    build)
        install_deps "${RUNTIME_BUILD_DEPS[@]}"
        build
        ;;
    *)
        sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'
        exit 2
        ;;
esac
