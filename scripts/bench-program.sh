#!/usr/bin/env bash
# bench-program - throughput of an external program's stdout passed through
# to the client, 1 GiB of it (`head -c 1073741824 /dev/zero`), fetched with
# curl into /dev/null through nginx:
#
#   cat       head -c N /dev/zero | cat > /dev/null      (the pipe alone)
#   mediafcgi [program zero] behind nginx (fastcgi_pass, unbuffered: the
#             answer carries X-Accel-Buffering: no)
#   seed      the approach it replaces: a WSGI app returning proc.stdout,
#             under gunicorn (one sync worker) behind nginx (proxy_pass,
#             X-Accel-Buffering: no as well)
#   seed-64k  the same app reading proc.stdout in 64 KiB blocks (iterating
#             a binary pipe yields lines: /dev/zero has none, so `seed`
#             holds the whole GiB in memory before sending a byte)
#
# For each: MB/s (10^6 bytes) best and median of RUNS, the peak RSS of the
# serving process, and the ratios. nginx runs twice: with its default
# buffers (fastcgi_buffer_size / proxy_buffer_size 4k) and with 64k, the
# same for both back ends.
#
#   scripts/bench-program.sh              (make bench-program)
#   BYTES=268435456 RUNS=5 scripts/bench-program.sh
#
# Everything runs from a temporary directory (configs, sockets, the WSGI
# app written there at run time) on a loopback port chosen now, and is
# stopped and removed at the end.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(dirname "$HERE")
BIN=${MEDIAFCGI_BIN:-$REPO/build/mediafcgi}
BYTES=${BYTES:-1073741824}
RUNS=${RUNS:-3}
PY=/usr/bin/python3

say() { printf '[bench-program] %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

[ -x "$BIN" ] || die "$BIN is not built (make)"
for t in nginx gunicorn curl head; do
    command -v "$t" >/dev/null 2>&1 || die "$t not installed (scripts/deps.sh)"
done
HEAD=$(command -v head)

TMP=$(mktemp -d /tmp/mediafcgi-bench-program.XXXXXX)
chmod 755 "$TMP"
mkdir -p "$TMP/media" "$TMP/tmp"
PIDS=()
cleanup() {
    for p in "${PIDS[@]:-}"; do
        [ -n "$p" ] && kill "$p" 2>/dev/null || true
    done
    for p in "${PIDS[@]:-}"; do
        [ -n "$p" ] && wait "$p" 2>/dev/null || true
    done
    rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

PORT=$(PYTHONPATH="$REPO/tests" $PY -c 'from support import webservers; print(webservers.free_port())')
ROOT_LINE=""
[ "$(id -u)" = 0 ] && ROOT_LINE="allow_root = yes"

cat > "$TMP/mediafcgi.conf" <<EOF
[server]
workers = 1
request_timeout = 600
$ROOT_LINE

[media]
root = $TMP/media

[program zero]
match = prefix:/zero/
argv = $HEAD -c $BYTES /dev/zero
content_type = application/octet-stream
timeout = 599
EOF

cat > "$TMP/app.py" <<EOF
# The seed approach: a WSGI app handing gunicorn the program's stdout.
import subprocess

ARGV = ["$HEAD", "-c", "$BYTES", "/dev/zero"]
HEADERS = [("Content-Type", "application/octet-stream"), ("X-Accel-Buffering", "no")]


def seed(environ, start_response):
    proc = subprocess.Popen(ARGV, stdout=subprocess.PIPE)
    start_response("200 OK", HEADERS)
    return proc.stdout


def blocks(environ, start_response):
    proc = subprocess.Popen(ARGV, stdout=subprocess.PIPE)
    start_response("200 OK", HEADERS)

    def gen():
        try:
            while True:
                b = proc.stdout.read(65536)
                if not b:
                    break
                yield b
        finally:
            proc.stdout.close()
            proc.wait()
    return gen()


def app(environ, start_response):
    if environ["PATH_INFO"].startswith("/wsgi64k/"):
        return blocks(environ, start_response)
    if environ["PATH_INFO"].startswith("/wsgi/"):
        return seed(environ, start_response)
    start_response("404 Not Found", [("Content-Type", "text/plain")])
    return [b"not found\n"]
EOF

nginx_conf() {   # buffer size or "default"
    local buf=""
    if [ "$1" != default ]; then
        buf="fastcgi_buffer_size $1; fastcgi_buffers 8 $1; fastcgi_busy_buffers_size $1;
             proxy_buffer_size $1; proxy_buffers 8 $1; proxy_busy_buffers_size $1;"
    fi
    local user=""
    [ "$(id -u)" = 0 ] && user="user root root;"
    cat > "$TMP/nginx.conf" <<EOF
$user
worker_processes 1;
pid $TMP/nginx.pid;
error_log $TMP/nginx-error.log;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path $TMP/tmp/body;
    fastcgi_temp_path $TMP/tmp/fastcgi;
    proxy_temp_path $TMP/tmp/proxy;
    uwsgi_temp_path $TMP/tmp/uwsgi;
    scgi_temp_path $TMP/tmp/scgi;
    $buf
    server {
        listen 127.0.0.1:$PORT;
        location = /ping { return 204; }
        location /zero/ {
            fastcgi_pass unix:$TMP/mediafcgi.sock;
            fastcgi_param REQUEST_METHOD \$request_method;
            fastcgi_param REQUEST_URI \$request_uri;
            fastcgi_param QUERY_STRING \$query_string;
        }
        location / {
            proxy_pass http://unix:$TMP/gunicorn.sock;
            proxy_http_version 1.1;
        }
    }
}
EOF
}

wait_for() {     # path of a socket, what
    local i
    for i in $(seq 1 200); do
        [ -S "$1" ] && return 0
        sleep 0.05
    done
    die "$2 did not create $1"
}

"$BIN" --foreground --listen "unix:$TMP/mediafcgi.sock" --config "$TMP/mediafcgi.conf" \
    2>"$TMP/mediafcgi.log" &
MF=$!
PIDS+=("$MF")
gunicorn --workers 1 --timeout 600 --bind "unix:$TMP/gunicorn.sock" --chdir "$TMP" \
    --log-level warning app:app 2>"$TMP/gunicorn.log" &
GU=$!
PIDS+=("$GU")
wait_for "$TMP/mediafcgi.sock" mediafcgi
wait_for "$TMP/gunicorn.sock" gunicorn
sleep 0.3
MF_WORKER=$(pgrep -P "$MF" | head -1)
GU_WORKER=$(pgrep -P "$GU" | head -1)

hwm() { awk '/^VmHWM:/ { printf "%d", $2 / 1024 }' "/proc/$1/status" 2>/dev/null || echo "?"; }
# Peak RSS from now on (clear_refs 5 resets VmHWM; else it stays cumulative).
HWM_RESET=yes
hwm_reset() { echo 5 2>/dev/null > "/proc/$1/clear_refs" || HWM_RESET=no; }
# CPU time of a process itself (not its children), in clock ticks.
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
HZ=$(getconf CLK_TCK)
# CPU seconds per GiB moved, from ticks spent over RUNS fetches.
cpu_per_gib() { awk -v t="$1" -v hz="$HZ" -v r="$RUNS" -v b="$BYTES" \
    'BEGIN { printf "%.2f", t / hz / (r * b / 1073741824) }'; }

# One fetch: prints MB/s, or FAIL.
fetch() {
    local out size t
    out=$(curl -s -o /dev/null -w '%{size_download} %{time_total}' --max-time 900 \
        "http://127.0.0.1:$PORT$1" || true)
    size=${out%% *}
    t=${out##* }
    if [ "$size" != "$BYTES" ]; then
        echo FAIL
        return
    fi
    awk -v b="$size" -v t="$t" 'BEGIN { printf "%.0f", b / t / 1e6 }'
}

cat_once() {
    local t0 t1
    t0=$(date +%s.%N)
    "$HEAD" -c "$BYTES" /dev/zero | cat > /dev/null
    t1=$(date +%s.%N)
    awk -v b="$BYTES" -v a="$t0" -v z="$t1" 'BEGIN { printf "%.0f", b / (z - a) / 1e6 }'
}

# best and median of RUNS values
summary() {
    printf '%s\n' "$@" | grep -v FAIL | sort -n | awk '
        { v[NR] = $1 } END {
            if (NR == 0) { print "FAIL FAIL"; exit }
            printf "%d %d", v[NR], (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

declare -A BEST MED RSS CPU
measure() {      # key, command...
    local key=$1 v=() i
    shift
    for i in $(seq 1 "$RUNS"); do
        v+=("$("$@")")
    done
    read -r BEST[$key] MED[$key] <<<"$(summary "${v[@]}")"
    say "$key: ${v[*]} MB/s"
}

say "$(( BYTES >> 20 )) MiB per fetch, $RUNS runs each, $(nproc) CPUs"
measure cat cat_once
NG=""
for buf in default 64k; do
    nginx_conf "$buf"
    nginx -p "$TMP/" -c "$TMP/nginx.conf" -e "$TMP/nginx-error.log" -g 'daemon off;' &
    NG=$!
    PIDS+=("$NG")
    for i in $(seq 1 100); do
        curl -s -o /dev/null "http://127.0.0.1:$PORT/ping" && break
        sleep 0.05
    done
    for k in mediafcgi seed-64k seed; do
        case $k in
        mediafcgi) w=$MF_WORKER url=/zero/ ;;
        seed-64k)  w=$GU_WORKER url=/wsgi64k/ ;;
        seed)      w=$GU_WORKER url=/wsgi/ ;;
        esac
        hwm_reset "$w"
        t0=$(ticks "$w")
        measure "$k/$buf" fetch "$url"
        CPU[$k/$buf]=$(cpu_per_gib $(( $(ticks "$w") - t0 )))
        RSS[$k/$buf]=$(hwm "$w")
    done
    kill "$NG"
    wait "$NG" 2>/dev/null || true
done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.2f", a / b; else print "-" }'; }

printf '\n%-26s %10s %10s %14s %12s\n' "path ($(( BYTES >> 20 )) MiB)" "best MB/s" "median" \
    "peak RSS MiB" "CPU s/GiB"
printf '%-26s %10s %10s %14s %12s\n' "cat (pipe only)" "${BEST[cat]}" "${MED[cat]}" "-" "-"
for buf in default 64k; do
    for k in mediafcgi seed-64k seed; do
        printf '%-26s %10s %10s %14s %12s\n' "$k (nginx $buf)" "${BEST[$k/$buf]}" \
            "${MED[$k/$buf]}" "${RSS[$k/$buf]}" "${CPU[$k/$buf]}"
    done
done
printf '\nratios (median):\n'
for buf in default 64k; do
    printf '  nginx %-8s mediafcgi/cat %s   mediafcgi/seed %s   mediafcgi/seed-64k %s\n' "$buf" \
        "$(ratio "${MED[mediafcgi/$buf]}" "${MED[cat]}")" \
        "$(ratio "${MED[mediafcgi/$buf]}" "${MED[seed/$buf]}")" \
        "$(ratio "${MED[mediafcgi/$buf]}" "${MED[seed-64k/$buf]}")"
done
printf '(CPU: user + system time of the serving worker itself, the program excluded)\n'
if [ "$HWM_RESET" = yes ]; then
    printf '(peak RSS: VmHWM of the serving worker during those runs; the program itself not counted)\n'
else
    printf '(peak RSS: VmHWM of the serving worker, cumulative over the runs above it)\n'
fi
