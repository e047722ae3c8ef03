#!/usr/bin/env bash
# Package test: the .deb installs, its units verify, the installed binary
# serves the installed config behind nginx through the installed example,
# and a purge leaves nothing behind.
#
#   tests/package/run.sh [DEB]        (make package-test: make deb first)
#
# Without DEB it runs `make deb` and takes build/deb/mediafcgi_*.deb.
# Needs root (dpkg). Idempotent: a mediafcgi package found installed at the
# start (an earlier run cut short) is purged first, and everything this
# run installs, starts or writes is undone on exit, failed or not.
#
# Steps:
#  1. dpkg -i, then apt-get -f install -y (dependencies)
#  2. the files: binary, conffile, units, manual pages, examples, media root
#  3. systemd-analyze verify of the installed units; systemd need not run
#     (it reads the unit files offline; --man=yes checks the Documentation=
#     man pages exist)
#  4. the installed binary with a copy of the installed config (root
#     pointed at test media) and --listen (systemd is not running here),
#     behind nginx with the installed nginx-unix.conf: a thumbnail
#  5. the unit's own ExecStart line, unchanged, on a socket passed as fd 0
#     (systemd-socket-activate --inetd: what StandardInput=socket does)
#     with the owner and mode of the installed .socket, serving the
#     installed config and media root: a thumbnail through nginx
#  6. dpkg --purge: no /etc/mediafcgi, no file of `dpkg -L`, no package
#     directory, no systemd enablement link, no mediafcgi process
set -euo pipefail

REPO=$(cd "$(dirname "$0")/../.." && pwd)
PYTHON=/usr/bin/python3
WEB_USER=www-data

say() { printf '[package-test] %s\n' "$*"; }
fail() { say "FAIL: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || fail "needs root (dpkg -i, dpkg --purge)"
for t in dpkg apt-get nginx systemd-analyze systemd-socket-activate curl; do
    command -v "$t" >/dev/null || fail "$t is not installed (scripts/deps.sh installs it)"
done

DEB=${1:-}
if [ -z "$DEB" ]; then
    make -C "$REPO" deb
    for DEB in "$REPO"/build/deb/mediafcgi_*.deb; do :; done
fi
[ -f "$DEB" ] || fail "no package: $DEB"
DEB=$(readlink -f "$DEB")
T0=$(date +%s)

T=$(mktemp -d /tmp/mediafcgi-pkgtest.XXXXXX)
chmod 755 "$T"
mkdir -m 755 "$T/media" "$T/run" "$T/docroot" "$T/tmp" "$T/log"
chown "$WEB_USER:$WEB_USER" "$T/run" "$T/tmp"
echo '<!doctype html><title>mediafcgi</title>' > "$T/docroot/index.html"
PIDS=()                 # what this run started, stopped on exit
INSTALLED_MEDIA=""      # a test file put into the packaged media root

stop_pid() {            # pid: SIGTERM, up to 35 s (the master waits 30 s for workers), SIGKILL
    local pid=$1 i=0
    kill -TERM "$pid" 2>/dev/null || return 0
    while kill -0 "$pid" 2>/dev/null && [ "$i" -lt 350 ]; do sleep 0.1; i=$((i + 1)); done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

cleanup() {
    local rc=$?
    set +e
    for pid in "${PIDS[@]}"; do stop_pid "$pid"; done
    [ -n "$INSTALLED_MEDIA" ] && rm -f "$INSTALLED_MEDIA"
    if dpkg-query -W -f='${Status}' mediafcgi 2>/dev/null | grep -qv 'not-installed'; then
        dpkg --purge mediafcgi >/dev/null 2>&1
    fi
    if [ "$rc" -ne 0 ]; then
        for f in "$T"/*.log "$T"/log/*.log; do
            [ -s "$f" ] && { echo "---- $f"; tail -n 30 "$f"; }
        done
    fi
    rm -rf "$T"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
    PYTHONPATH="$REPO/tests" "$PYTHON" -c 'from support import webservers; print(webservers.free_port())'
}

wait_for() {            # what, command...: polls up to 15 s
    local what=$1 i=0
    shift
    until "$@" >/dev/null 2>&1; do
        i=$((i + 1))
        [ "$i" -lt 150 ] || fail "$what did not come up"
        sleep 0.1
    done
}

unix_connect() {
    "$PYTHON" -c 'import socket, sys; socket.socket(socket.AF_UNIX).connect(sys.argv[1])' "$1"
}

# --------------------------------------------------------------- 0. clean start
if dpkg-query -W -f='${Status}' mediafcgi 2>/dev/null | grep -qv 'not-installed'; then
    say "purging the mediafcgi package found installed"
    dpkg --purge mediafcgi
fi

# --------------------------------------------------------------- 1. install
say "installing $DEB"
dpkg -i "$DEB" || say "dpkg -i left dependencies to apt-get -f install"
DEBIAN_FRONTEND=noninteractive apt-get -f install -y -q >/dev/null
dpkg-query -W -f='${Status}' mediafcgi | grep -q '^install ok installed$' \
    || fail "mediafcgi is not installed after dpkg -i + apt-get -f install"
VERSION=$(dpkg-query -W -f='${Version}' mediafcgi)

# --------------------------------------------------------------- 2. files
BIN=/usr/sbin/mediafcgi
CONF=/etc/mediafcgi/mediafcgi.conf
UNITS=/lib/systemd/system
EX=/usr/share/doc/mediafcgi/examples
[ -x "$BIN" ] || fail "$BIN missing"
[ "$("$BIN" --version)" = "mediafcgi $VERSION" ] || fail "--version says $("$BIN" --version), the package $VERSION"
dpkg-query -W -f='${Conffiles}\n' mediafcgi | grep -q " $CONF " || fail "$CONF is not a conffile"
grep -q '^user = www-data$' "$CONF" || fail "$CONF: no user = www-data"
grep -q '^listen' "$CONF" && fail "$CONF sets listen (systemd passes the socket as fd 0)"
for f in "$UNITS/mediafcgi.service" "$UNITS/mediafcgi.socket" \
         /usr/share/man/man8/mediafcgi.8.gz /usr/share/man/man5/mediafcgi.conf.5.gz \
         "$EX/nginx-unix.conf" "$EX/README.md"; do
    [ -f "$f" ] || [ -f "$f.gz" ] || fail "$f missing"
done
[ -d /var/lib/mediafcgi/media ] || fail "no media root /var/lib/mediafcgi/media"
grep -q '^StandardInput=socket$' "$UNITS/mediafcgi.service" || fail "the service does not take fd 0 from the socket"
man -l /usr/share/man/man8/mediafcgi.8.gz >/dev/null 2>&1 || fail "mediafcgi(8) does not render"
say "installed $VERSION: binary, conffile, units, man pages, examples"

# --------------------------------------------------------------- 3. units
# systemd need not be PID 1: verify loads the unit files as a manager would
# and reports unknown keys, bad values, missing binaries and man pages.
out=$(systemd-analyze verify --man=yes "$UNITS/mediafcgi.socket" "$UNITS/mediafcgi.service" 2>&1) \
    || fail "systemd-analyze verify: $out"
[ -z "$out" ] || fail "systemd-analyze verify complains: $out"
exposure=$(systemd-analyze security --offline=true "$UNITS/mediafcgi.service" 2>/dev/null | tail -n 1 || true)
say "systemd-analyze verify: clean. ${exposure#→ }"

# --------------------------------------------------------------- 4. --listen
"$PYTHON" - "$T/media/photo.jpg" <<'EOF'
import sys
from PIL import Image, ImageDraw
im = Image.new("RGB", (800, 600), (40, 90, 200))
ImageDraw.Draw(im).ellipse([200, 100, 600, 500], fill=(240, 220, 20))
im.save(sys.argv[1], quality=90)
EOF
chmod 644 "$T/media/photo.jpg"

# The front end: nginx with the installed example, placeholders filled in.
NGINX_PID=""
start_nginx() {         # socket
    local sock=$1 ex="$EX/nginx-unix.conf"
    PORT=$(free_port)
    LIVE_PORT=$(free_port)
    while [ "$LIVE_PORT" = "$PORT" ]; do LIVE_PORT=$(free_port); done
    [ -f "$ex" ] || ex="$ex.gz"
    zcat -f "$ex" | sed -e "s|@LISTEN@|127.0.0.1:$PORT|" -e "s|@DOCROOT@|$T/docroot|" \
        -e "s|@SOCKET@|$sock|" -e "s|@LIVE_LISTEN@|127.0.0.1:$LIVE_PORT|" \
        -e "s|@LIVE_PORT@|$LIVE_PORT|" > "$T/site.conf"
    grep -q '@[A-Z_]*@' "$T/site.conf" && fail "placeholders left in nginx-unix.conf"
    cat > "$T/nginx.conf" <<EOF
user $WEB_USER $WEB_USER;
worker_processes 1;
pid $T/nginx.pid;
error_log $T/nginx-error.log notice;
events { worker_connections 64; }
http {
    access_log $T/nginx-access.log;
    client_body_temp_path $T/tmp/client_body;
    fastcgi_temp_path $T/tmp/fastcgi;
    proxy_temp_path $T/tmp/proxy;
    uwsgi_temp_path $T/tmp/uwsgi;
    scgi_temp_path $T/tmp/scgi;
    include $T/site.conf;
}
EOF
    nginx -p "$T/" -c "$T/nginx.conf" -e "$T/nginx-error.log" -g 'daemon off;' \
        >>"$T/nginx.log" 2>&1 &
    NGINX_PID=$!
    PIDS+=("$NGINX_PID")
    wait_for "nginx on port $PORT" curl -sf -o /dev/null "http://127.0.0.1:$PORT/"
}
stop_nginx() {
    stop_pid "$NGINX_PID"
}

fetch_thumbnail() {     # path: a 200x150 JPEG through nginx
    local got
    got=$(curl -sS -o "$T/thumb.jpg" -w '%{http_code} %{content_type}' \
        "http://127.0.0.1:$PORT$1?size=200x150") || fail "GET $1 failed"
    [ "$got" = "200 image/jpeg" ] || fail "GET $1: $got $(head -c 200 "$T/thumb.jpg")"
    "$PYTHON" -c 'import sys; from PIL import Image; s = Image.open(sys.argv[1]).size; \
        sys.exit(0 if s == (200, 150) else "size %s" % (s,))' "$T/thumb.jpg" \
        || fail "GET $1: not a 200x150 JPEG"
}

sed -e "s|^root = .*|root = $T/media|" "$CONF" > "$T/mediafcgi.conf"
"$BIN" --config "$T/mediafcgi.conf" --workers 2 --foreground \
    --listen "unix:$T/run/mediafcgi.sock" >>"$T/mediafcgi.log" 2>&1 &
PIDS+=("$!")
LISTEN_PID=$!
wait_for "mediafcgi --listen" unix_connect "$T/run/mediafcgi.sock"
start_nginx "$T/run/mediafcgi.sock"
fetch_thumbnail /media/photo.jpg
for w in $(pgrep -P "$LISTEN_PID"); do
    [ "$(stat -c %U "/proc/$w")" = "$WEB_USER" ] || fail "worker $w does not run as $WEB_USER"
done
stop_nginx
stop_pid "$LISTEN_PID"
say "installed binary + copied config (--listen) behind nginx-unix.conf: thumbnail ok, workers run as $WEB_USER"

# --------------------------------------------------------------- 5. the unit's command on fd 0
EXEC=$(sed -n 's/^ExecStart=//p' "$UNITS/mediafcgi.service")
SOCK_USER=$(sed -n 's/^SocketUser=//p' "$UNITS/mediafcgi.socket")
SOCK_GROUP=$(sed -n 's/^SocketGroup=//p' "$UNITS/mediafcgi.socket")
SOCK_MODE=$(sed -n 's/^SocketMode=//p' "$UNITS/mediafcgi.socket")
INSTALLED_MEDIA=/var/lib/mediafcgi/media/mediafcgi-package-test.jpg
install -m 644 "$T/media/photo.jpg" "$INSTALLED_MEDIA"
# shellcheck disable=SC2086 # ExecStart is a command line
systemd-socket-activate --inetd -l "$T/run/activated.sock" $EXEC >>"$T/mediafcgi-activated.log" 2>&1 &
PIDS+=("$!")
ACT_PID=$!
wait_for "the activation socket" test -S "$T/run/activated.sock"
chown "$SOCK_USER:$SOCK_GROUP" "$T/run/activated.sock"
chmod "$SOCK_MODE" "$T/run/activated.sock"
start_nginx "$T/run/activated.sock"
fetch_thumbnail /media/mediafcgi-package-test.jpg
[ "$(readlink "/proc/$ACT_PID/exe")" = "$BIN" ] || fail "the activated process is not $BIN"
stop_nginx
stop_pid "$ACT_PID"
rm -f "$INSTALLED_MEDIA"
INSTALLED_MEDIA=""
say "ExecStart ($EXEC) on an fd-0 socket ($SOCK_USER:$SOCK_GROUP $SOCK_MODE), installed config: thumbnail ok"

# --------------------------------------------------------------- 6. purge
dpkg -L mediafcgi > "$T/files"
dpkg --purge mediafcgi
dpkg-query -W -f='${Status}' mediafcgi 2>/dev/null | grep -qv 'not-installed' \
    && fail "mediafcgi still known to dpkg after purge: $(dpkg-query -W -f='${Status}' mediafcgi)"
[ -e /etc/mediafcgi ] && fail "/etc/mediafcgi left after purge"
left=""
while read -r f; do
    [ "$f" = "/." ] && continue
    [ -e "$f" ] || [ -L "$f" ] || continue
    if [ -d "$f" ]; then
        # a directory may stay only if another package owns it too, or it
        # is a link of the system's (/lib -> usr/lib)
        [ -L "$f" ] || dpkg -S "$f" >/dev/null 2>&1 || left="$left $f"
    else
        left="$left $f"
    fi
done < "$T/files"
[ -z "$left" ] || fail "left after purge:$left"
links=$(find /etc/systemd /var/lib/systemd -name 'mediafcgi*' 2>/dev/null || true)
[ -z "$links" ] || fail "systemd links left after purge: $links"
procs=""
for p in /proc/[0-9]*; do
    case "$(readlink "$p/exe" 2>/dev/null)" in
        "$BIN"*) procs="$procs ${p#/proc/}" ;;
    esac
done
[ -z "$procs" ] || fail "mediafcgi processes left:$procs"
say "purged: no conffile, no file of dpkg -L, no systemd link, no process"
say "ok ($(( $(date +%s) - T0 )) s)"
