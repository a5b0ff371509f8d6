#!/usr/bin/env bash
# Builds Switchboard's .deb and .tar.gz (./build.sh package) and checks them:
#   1. the desktop entry, the AppStream metadata, the man page, lintian, the
#      package contents and its dependencies;
#   2. installs the .deb with apt-get, verifies the installed systemd unit;
#   3. starts the INSTALLED /usr/bin/switchboard with the shipped configuration
#      and drives it from outside: curl /health, a Python websockets client
#      calling echo over jsonrpc and dm-rpc, and Debian's chromium (through
#      playwright-core from npm) using the web console at / to call echo;
#   4. stops it, removes and purges the package, and checks nothing is left.
# Run as root or with sudo. Called by .ci/run after the tests.
#
#   packaging/check-package.sh
#
# PACKAGE_BUILD_DIR: build directory (default build-pkg). SWITCHBOARD_SKIP_DEPS=1:
# no apt-get for tools (they must be there). KEEP_CHECK_DIR=1: keep the work
# directory (logs, screenshots); it is always kept when a check fails.
set -euo pipefail
cd "$(dirname "$0")/.."

export DEBIAN_FRONTEND=noninteractive
SUDO=()
[ "$(id -u)" -eq 0 ] || SUDO=(sudo)
BUILD_DIR=${PACKAGE_BUILD_DIR:-build-pkg}
APP_ID=io.github.switchboard.Switchboard
PYTHON=/usr/bin/python3 # Debian's, where python3-websockets lives
WORK=$(mktemp -d "${TMPDIR:-/tmp}/switchboard-check.XXXXXX")
SERVER_PID=""
INSTALLED_BY_US=0
STARTED=$(date +%s)
PHASE_STARTED=$STARTED
TIMINGS=()
E2E_RESULTS=()

say() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
ok() { printf '  ok  %s\n' "$*"; }
fail() { printf '\n\033[31mFAIL: %s\033[0m\n' "$*" >&2; exit 1; }
phase_done() {
    local now
    now=$(date +%s)
    TIMINGS+=("$(printf '%-28s %4ss' "$1" $((now - PHASE_STARTED)))")
    PHASE_STARTED=$now
}
package_state() { dpkg-query -W -f='${db:Status-Status}' switchboard 2>/dev/null || true; }
# PIDs of processes running the packaged binary (not developers' build trees).
installed_server_pids() {
    local proc exe
    for proc in /proc/[0-9]*; do
        exe=$(readlink "$proc/exe" 2>/dev/null) || continue
        case "$exe" in /usr/bin/switchboard | "/usr/bin/switchboard (deleted)") echo "${proc#/proc/}" ;; esac
    done
}

cleanup() {
    local rc=$?
    if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        sleep 2
        kill -KILL "$SERVER_PID" 2>/dev/null || true
    fi
    if [ "$INSTALLED_BY_US" = 1 ] && [ -n "$(package_state)" ] && [ "$(package_state)" != not-installed ]; then
        echo "cleanup: purging the switchboard package this check installed" >&2
        "${SUDO[@]}" apt-get purge -y -qq switchboard >/dev/null 2>&1 || true
    fi
    if [ $rc -ne 0 ] || [ "${KEEP_CHECK_DIR:-0}" = 1 ]; then
        echo "work directory kept: $WORK" >&2
    else
        rm -rf "$WORK"
    fi
    exit $rc
}
trap cleanup EXIT

# ---------------------------------------------------------------- tools
say "Tools"
case "$(package_state)" in
    "" | not-installed) ;;
    *) fail "the switchboard package is already on this machine ($(package_state)); remove it first: apt-get purge switchboard" ;;
esac
if [ "${SWITCHBOARD_SKIP_DEPS:-0}" != 1 ]; then
    "${SUDO[@]}" apt-get update -qq
    # desktop-file-utils, appstream, lintian, man-db: checks of the package;
    # systemd: systemd-analyze; chromium, python3-websockets, curl: clients.
    "${SUDO[@]}" apt-get install -y -qq --no-install-recommends \
        desktop-file-utils appstream lintian man-db systemd chromium \
        python3 python3-websockets curl ca-certificates >"$WORK/apt.log" 2>&1 \
        || { tail -20 "$WORK/apt.log"; fail "apt-get install of the check tools"; }
    if ! command -v npm >/dev/null; then
        "${SUDO[@]}" apt-get install -y -qq --no-install-recommends npm >>"$WORK/apt.log" 2>&1 \
            || { tail -20 "$WORK/apt.log"; fail "apt-get install npm"; }
    fi
fi
for tool in desktop-file-validate appstreamcli lintian systemd-analyze chromium node npm curl "$PYTHON"; do
    command -v "$tool" >/dev/null || fail "$tool is missing"
done
ok "node $(node --version), npm $(npm --version), $(chromium --version 2>/dev/null), $(lintian --version)"
phase_done "tools (apt-get)"

# ---------------------------------------------------------------- build
say "Build the packages (./build.sh package, Release, tests off) in $BUILD_DIR"
PACKAGE_BUILD_DIR=$BUILD_DIR ./build.sh package
shopt -s nullglob
debs=("$BUILD_DIR"/switchboard_*.deb)
tgzs=("$BUILD_DIR"/switchboard-*.tar.gz)
shopt -u nullglob
[ ${#debs[@]} -eq 1 ] || fail "expected one .deb in $BUILD_DIR, found ${#debs[@]}"
[ ${#tgzs[@]} -eq 1 ] || fail "expected one .tar.gz in $BUILD_DIR, found ${#tgzs[@]}"
DEB=${debs[0]}
TGZ=${tgzs[0]}
VERSION=$(sed -n 's/^CMAKE_PROJECT_VERSION:STATIC=//p' "$BUILD_DIR/CMakeCache.txt")
ARCH=$(dpkg --print-architecture)
[ -n "$VERSION" ] || fail "no CMAKE_PROJECT_VERSION in $BUILD_DIR/CMakeCache.txt"
[ "$(basename "$DEB")" = "switchboard_${VERSION}_${ARCH}.deb" ] \
    || fail "the .deb is $(basename "$DEB"), expected switchboard_${VERSION}_${ARCH}.deb"
[ "$(dpkg-deb -f "$DEB" Version)" = "$VERSION" ] || fail "the .deb's Version is not project()'s $VERSION"
ok "$(basename "$DEB") and $(basename "$TGZ"), version $VERSION from project()"
phase_done "build + cpack"

# ---------------------------------------------------------------- static checks
say "Check the package"
dpkg-deb --contents "$DEB" >"$WORK/contents.txt"
dpkg-deb -x "$DEB" "$WORK/root"
dpkg-deb -e "$DEB" "$WORK/control"
expected=(
    ./usr/bin/switchboard
    ./usr/lib/switchboard/plugins/libswitchboard_ratelimit.so
    ./usr/lib/switchboard/plugins/libswitchboard_kv.so
    "./usr/share/applications/$APP_ID.desktop"
    "./usr/share/metainfo/$APP_ID.metainfo.xml"
    "./usr/share/icons/hicolor/scalable/apps/$APP_ID.svg"
    ./usr/share/man/man1/switchboard.1.gz
    ./usr/lib/systemd/system/switchboard.service
    ./etc/switchboard/switchboard.json
    ./usr/share/doc/switchboard/copyright
    ./usr/share/doc/switchboard/changelog.gz
)
for size in 16 32 48 64 128 256; do
    expected+=("./usr/share/icons/hicolor/${size}x${size}/apps/$APP_ID.png")
done
awk '{print $6}' "$WORK/contents.txt" >"$WORK/paths.txt"
for path in "${expected[@]}"; do
    grep -qxF "$path" "$WORK/paths.txt" || fail "the .deb lacks $path"
done
ok "dpkg-deb --contents has all ${#expected[@]} expected files"
grep -qxF /etc/switchboard/switchboard.json "$WORK/control/conffiles" || fail "/etc/switchboard/switchboard.json is not a conffile"
ok "conffiles: $(tr '\n' ' ' <"$WORK/control/conffiles")"
DEPENDS=$(dpkg-deb -f "$DEB" Depends)
for lib in libqt6core6 libqt6network6 libqt6websockets6 libqt6httpserver6 libqt6widgets6 libqt6svg6; do
    [[ "$DEPENDS" == *"$lib "* ]] || fail "Depends lacks $lib (is the dashboard built?): $DEPENDS"
done
ok "Depends (dpkg-shlibdeps) has the Qt libraries of the server and the dashboard"

desktop-file-validate "$WORK/root/usr/share/applications/$APP_ID.desktop" || fail "desktop-file-validate"
ok "desktop-file-validate $APP_ID.desktop"
appstreamcli validate --no-net "$WORK/root/usr/share/metainfo/$APP_ID.metainfo.xml" >"$WORK/appstream.txt" 2>&1 \
    || { cat "$WORK/appstream.txt"; fail "appstreamcli validate"; }
ok "appstreamcli validate --no-net: $(tail -1 "$WORK/appstream.txt")"
man_warnings=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l -Tutf8 -Z "$WORK/root/usr/share/man/man1/switchboard.1.gz" 2>&1 >/dev/null || true)
[ -z "$man_warnings" ] || fail "switchboard(1) has groff warnings: $man_warnings"
ok "man page renders without warnings"
python3_json=$("$PYTHON" -c 'import json,sys; json.load(open(sys.argv[1])); print("ok")' "$WORK/root/etc/switchboard/switchboard.json")
[ "$python3_json" = ok ] || fail "switchboard.json is not JSON"
grep -q '"stateFile": "/var/lib/switchboard/' "$WORK/root/etc/switchboard/switchboard.json" \
    || fail "the default config's stateFile is not in the unit's StateDirectory"
ok "default config is JSON, stateFile in /var/lib/switchboard"
tar -tzf "$TGZ" >"$WORK/tgz.txt"
for path in bin/switchboard etc/switchboard/switchboard.json lib/switchboard/plugins/libswitchboard_ratelimit.so; do
    grep -qx "[^/]*/$path" "$WORK/tgz.txt" || fail "the .tar.gz lacks $path"
done
ok "the .tar.gz is relocatable (bin/, lib/, share/, etc/ below one top directory)"

# lintian: no errors and no warnings. The info tags it prints are explained in
# packaging/README.md (.comment sections that plain strip keeps, no init.d
# script for a systemd-only service).
lintian --display-info --pedantic "$DEB" 2>&1 | grep -v 'running with root privileges is not recommended' >"$WORK/lintian.txt" || true
if grep -E '^[EW]: ' "$WORK/lintian.txt"; then
    fail "lintian reports errors or warnings (above)"
fi
ok "lintian: no errors, no warnings ($(grep -c '^[IPX]: ' "$WORK/lintian.txt" || true) info/pedantic tags)"
phase_done "static checks + lintian"

# ---------------------------------------------------------------- install
say "Install the .deb with apt-get"
INSTALLED_BY_US=1
"${SUDO[@]}" apt-get install -y -qq "$PWD/$DEB" >"$WORK/install.log" 2>&1 || { cat "$WORK/install.log"; fail "apt-get install"; }
[ "$(package_state)" = installed ] || fail "dpkg says: $(package_state)"
installed_version=$(/usr/bin/switchboard --version)
[ "$installed_version" = "switchboard $VERSION" ] || fail "switchboard --version says \"$installed_version\""
ok "installed; /usr/bin/switchboard --version: $installed_version"
dpkg-query -W -f='${Conffiles}\n' switchboard | grep -q ' /etc/switchboard/switchboard.json ' || fail "dpkg does not track the conffile"
ok "dpkg tracks /etc/switchboard/switchboard.json as a conffile"
man -w switchboard >/dev/null || fail "man -w switchboard"
ok "man switchboard: $(man -w switchboard)"
systemd-analyze verify /usr/lib/systemd/system/switchboard.service || fail "systemd-analyze verify switchboard.service"
ok "systemd-analyze verify switchboard.service"
if exposure=$(systemd-analyze security --offline=true /usr/lib/systemd/system/switchboard.service 2>/dev/null | grep 'Overall exposure'); then
    ok "systemd-analyze security: ${exposure#→ }"
fi
phase_done "install + unit checks"

# ---------------------------------------------------------------- end to end
say "Drive the installed server end to end"
# As much of switchboard.service as works without systemd: no PCRE2 JIT and,
# when root, an unprivileged user with no capabilities and no new privileges.
RUN_AS=(env QT_ENABLE_REGEXP_JIT=0)
if [ "$(id -u)" -eq 0 ]; then
    RUN_AS=(setpriv --reuid=nobody --regid=nogroup --clear-groups --no-new-privs
            --bounding-set=-all --inh-caps=-all -- env HOME=/nonexistent QT_ENABLE_REGEXP_JIT=0)
fi
"${RUN_AS[@]}" /usr/bin/switchboard --headless --config /etc/switchboard/switchboard.json --port 0 \
    >"$WORK/server.out" 2>"$WORK/server.err" </dev/null &
SERVER_PID=$!
PORT=""
for _ in $(seq 100); do
    PORT=$(sed -n 's#^listening http://127\.0\.0\.1:\([0-9]*\)$#\1#p' "$WORK/server.out")
    [ -n "$PORT" ] && break
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/server.err"; fail "the installed switchboard exited at start"; }
    sleep 0.2
done
[ -n "$PORT" ] || { cat "$WORK/server.err"; fail "no 'listening' line within 20 s"; }
BASE=http://127.0.0.1:$PORT
ok "/usr/bin/switchboard --headless --config /etc/switchboard/switchboard.json --port 0 (pid $SERVER_PID, user $(ps -o user= -p "$SERVER_PID")): $(head -1 "$WORK/server.out")"

health=$(curl -fsS --max-time 10 "$BASE/health") || fail "curl $BASE/health"
[ "$health" = '{"status":"ok"}' ] || fail "/health answered $health"
E2E_RESULTS+=("curl /health: $health")
ok "curl /health: $health"
curl -fsS --max-time 10 "$BASE/" | grep -q '<title>Switchboard console</title>' || fail "GET / is not the web console"
ok "curl /: the web console page"

if ! "$PYTHON" packaging/e2e/ws_echo.py "ws://127.0.0.1:$PORT/check-package" | tee "$WORK/ws.txt"; then
    fail "echo over jsonrpc and dm-rpc (python3-websockets)"
fi
while IFS= read -r line; do E2E_RESULTS+=("python3-websockets $line"); done <"$WORK/ws.txt"

mkdir -p "$WORK/e2e"
cp packaging/e2e/package.json packaging/e2e/package-lock.json packaging/e2e/console.mjs "$WORK/e2e/"
(cd "$WORK/e2e" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >"$WORK/npm.log" 2>&1) \
    || { cat "$WORK/npm.log"; fail "npm ci (playwright-core)"; }
ok "playwright-core $(node -p "require('$WORK/e2e/node_modules/playwright-core/package.json').version") from npm (no browser download)"
if ! E2E_ARTIFACTS=$WORK node "$WORK/e2e/console.mjs" "$BASE/" | tee "$WORK/chromium.txt"; then
    fail "the web console in chromium"
fi
E2E_RESULTS+=("$(tail -1 "$WORK/chromium.txt")")

kill -TERM "$SERVER_PID"
server_rc=0
wait "$SERVER_PID" || server_rc=$?
SERVER_PID=""
[ "$server_rc" -eq 0 ] || { cat "$WORK/server.err"; fail "switchboard exited with $server_rc on SIGTERM"; }
ok "SIGTERM: exit code 0; $(tail -1 "$WORK/server.err")"
E2E_RESULTS+=("SIGTERM: clean stop, exit 0")
phase_done "end to end"

# ---------------------------------------------------------------- remove
say "Remove the package"
"${SUDO[@]}" apt-get remove -y -qq switchboard >"$WORK/remove.log" 2>&1 || { cat "$WORK/remove.log"; fail "apt-get remove"; }
[ -z "$(installed_server_pids)" ] || fail "a /usr/bin/switchboard process is still running: $(installed_server_pids)"
[ ! -e /usr/bin/switchboard ] || fail "/usr/bin/switchboard is still there"
for path in /usr/lib/switchboard /usr/lib/systemd/system/switchboard.service /usr/share/applications/$APP_ID.desktop; do
    [ ! -e "$path" ] || fail "$path is still there after remove"
done
[ "$(package_state)" = config-files ] || fail "after remove dpkg says $(package_state), expected config-files"
ok "removed: no switchboard process, binary, plugin or unit left; the conffile stays until purge"
"${SUDO[@]}" apt-get purge -y -qq switchboard >>"$WORK/remove.log" 2>&1 || { cat "$WORK/remove.log"; fail "apt-get purge"; }
[ ! -e /etc/switchboard ] || fail "/etc/switchboard is still there after purge"
case "$(package_state)" in "" | not-installed) ;; *) fail "after purge dpkg says $(package_state)" ;; esac
INSTALLED_BY_US=0
ok "purged: /etc/switchboard gone, package not installed"
phase_done "remove + purge"

# ---------------------------------------------------------------- summary
say "Summary"
echo "Package:   $DEB ($(du -k "$DEB" | cut -f1) KiB; Installed-Size $(dpkg-deb -f "$DEB" Installed-Size) KiB)"
echo "Tarball:   $TGZ ($(du -k "$TGZ" | cut -f1) KiB)"
echo "Version:   $VERSION"
echo "Depends:   $DEPENDS"
echo
echo "Contents (dpkg-deb --contents, files):"
awk '$1 !~ /^d/ {printf "  %s %8s  %s\n", $1, $3, $6}' "$WORK/contents.txt"
echo
echo "lintian --pedantic --display-info:"
if [ -s "$WORK/lintian.txt" ]; then sed 's/^/  /' "$WORK/lintian.txt"; else echo "  (no tags)"; fi
echo
echo "End to end (installed /usr/bin/switchboard):"
for line in "${E2E_RESULTS[@]}"; do echo "  $line"; done
echo
echo "Time:"
for line in "${TIMINGS[@]}"; do echo "  $line"; done
echo "  $(printf '%-28s %4ss' total $(($(date +%s) - STARTED)))"
echo
echo "check-package: PASS"
