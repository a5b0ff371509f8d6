#!/usr/bin/env bash
# Switchboard developer entry point for Debian 12 / Ubuntu 22.04+.
#   ./build.sh run [switchboard flags...]   install dependencies, build, start Switchboard
#   ./build.sh test                         install dependencies, build, run every test
#   ./build.sh build                        install dependencies and build only
#   ./build.sh package                      build a Release, make the .deb and .tar.gz (packaging/)
# Installs packages with apt-get (through sudo when not root). Set
# SWITCHBOARD_SKIP_DEPS=1 to skip that step, BUILD_DIR to build elsewhere
# (PACKAGE_BUILD_DIR for `package`, default build-pkg).
set -euo pipefail
cd "$(dirname "$0")"

BUILD_DIR=${BUILD_DIR:-build}
BUILD_TYPE=${BUILD_TYPE:-RelWithDebInfo}

# What each package is for is listed in README.md ("Dependencies").
RUNTIME_BUILD_DEPS=(build-essential cmake ninja-build pkg-config
    qt6-base-dev qt6-websockets-dev qt6-httpserver-dev qt6-svg-dev libvalijson-dev)
TEST_DEPS=(python3 python3-websockets curl openssl json-schema-test-suite nodejs npm)
# `package`: dpkg-shlibdeps (dpkg-dev) and file(1) work out the .deb's dependencies.
PACKAGE_DEPS=(dpkg-dev file)

install_deps() {
    [ "${SWITCHBOARD_SKIP_DEPS:-0}" = 1 ] && return 0
    local missing=()
    for pkg in "$@"; do
        # A Node.js from elsewhere (NodeSource's nodejs bundles npm, and
        # Debian's npm package conflicts with it) serves as well.
        case "$pkg" in
            nodejs) command -v node >/dev/null && continue ;;
            npm) command -v npm >/dev/null && continue ;;
        esac
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

# Debian's hardening flags (dpkg-buildflags, hardening=+all) for the package
# build, without -g/-O2: the Release type optimises and CPack strips.
hardening_flags() {
    command -v dpkg-buildflags >/dev/null || return 0
    local cxx ld
    cxx="$(DEB_BUILD_MAINT_OPTIONS=hardening=+all dpkg-buildflags --get CPPFLAGS) $(DEB_BUILD_MAINT_OPTIONS=hardening=+all dpkg-buildflags --get CXXFLAGS)"
    ld=$(DEB_BUILD_MAINT_OPTIONS=hardening=+all dpkg-buildflags --get LDFLAGS)
    # shellcheck disable=SC2086 # split into one flag a line on purpose
    cxx=$(printf '%s\n' $cxx | grep -vx -e -g -e -O2 | tr '\n' ' ')
    printf '%s\n' "-DCMAKE_CXX_FLAGS=${cxx% }" "-DCMAKE_EXE_LINKER_FLAGS=$ld" \
        "-DCMAKE_SHARED_LINKER_FLAGS=$ld" "-DCMAKE_MODULE_LINKER_FLAGS=$ld"
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
    package)
        install_deps "${RUNTIME_BUILD_DEPS[@]}" "${PACKAGE_DEPS[@]}"
        BUILD_DIR=${PACKAGE_BUILD_DIR:-build-pkg}
        BUILD_TYPE=Release
        mapfile -t flags < <(hardening_flags)
        build -DSWITCHBOARD_BUILD_TESTS=OFF -DSWITCHBOARD_BUILD_BENCH=OFF -DSWITCHBOARD_BUILD_GUI=ON "${flags[@]}"
        (cd "$BUILD_DIR" && rm -f switchboard_*.deb switchboard-*.tar.gz && cpack -G DEB && cpack -G TGZ)
        ls -l "$BUILD_DIR"/switchboard_*.deb "$BUILD_DIR"/switchboard-*.tar.gz
        ;;
    *)
        sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'
        exit 2
        ;;
esac
