#!/usr/bin/env bash
# `make bench` (the Makefile builds first): mediafcgi side by side with the
# peers of ../shared/peers, in three parts (BENCH=all, or a list of them:
# BENCH=image, BENCH=video, BENCH="video live"):
#   image  thumbnails: peers/start.sh image, mediafcgi (2 workers) behind
#          nginx serving peers/fixtures at / (so /<fixture>?size=300x200
#          works), peers/bench-image.sh project=URL; then the format
#          comparison (scripts/bench_formats.py): ?size=300x200&format=F&q=Q
#          of ours against sharp's for F:Q in FORMATS (default "default
#          jpeg:85 webp:80 avif:50"; "default" = no format=/q=, each
#          server's default JPEG, the row bench-image.sh measures), req/s
#          (wrk as bench-image.sh), bytes, SSIM to a gm Lanczos downscale,
#          medians of FORMAT_RUNS=3 runs, ratios and the issue's targets,
#          and the TurboJPEG floor (bin/tjfloor) unless FLOORS=0; a format
#          our server does not answer with 200 is skipped with a note;
#          FORMAT_RUNS=0 skips the comparison
#   video  poster frames: peers/start.sh video, the same stack (it serves
#          fixtures/video.mp4 at /video.mp4), peers/bench-video.sh
#          project=URL (base URL: /video.mp4?t=T&size=320x180 is asked)
#   live   live MJPEG: mediafcgi with [source cam1] reading the peers' feed
#          (http://127.0.0.1:18090/feed.mjpg, passed through: 640x360 JPEG),
#          max_streams 32, behind nginx with the documented low-latency
#          stream listener (`listen ... sndbuf=4k`, `fastcgi_buffer_size
#          16k`, README "Live sources"; FastCGI on a unix socket), and
#          build/livefloor (the floor row: one C process fanning the feed
#          out, no web server; LIVE_FLOOR=0 skips it), then
#          peers/bench-live.sh project=URL/live/cam1 with CPU_PIDS = the
#          mediafcgi master and the nginx master (and their children), and
#          the project's CPU split between nginx and mediafcgi;
#          bench-live.sh starts the feed and the live peers if they are down
#          and stops what it started; then live in H.264
#          (scripts/bench_live_h264.py: 20 viewers, 5 slow, of
#          /live/cam1?format=mp4 against MJPEG of the same 640x360 30 fps
#          feed: bytes per viewer-second, SSIM, latency, CPU per viewer;
#          LIVE_H264_RUNS=3, 0 skips)
# Each part's table is printed as it runs and all of them again at the end;
# our servers and the peers started here are stopped (peers that were
# already running are left running). While the image/video stack runs the
# workers' memory is sampled from /proc and printed after its tables.
# Knobs: BENCH (above); LIVE_SNDBUF=4k and LIVE_FCGI_BUFFER=16k (the nginx
# listener's sndbuf and fastcgi_buffer_size for the live part; "none" keeps
# the kernel's / nginx's defaults, for comparison); the
# knobs of the peers' scripts pass through (DURATION=5s FLOORS=0
# PEERS_ONLY=sharp ..., VIEWERS= SLOW= for bench-live.sh); SHARED=/path/to/shared.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PY=/usr/bin/python3
BIN="${MEDIAFCGI_BIN:-$ROOT/build/mediafcgi}"
if [ -z "${SHARED:-}" ]; then
    top="$(git -C "$ROOT" rev-parse --show-toplevel 2>/dev/null || echo "$ROOT")"
    SHARED="$(cd "$top/.." && pwd)/shared"
fi
PEERS="$SHARED/peers"
BENCH="${BENCH:-all}"
LIVE_SNDBUF="${LIVE_SNDBUF:-4k}"
LIVE_FCGI_BUFFER="${LIVE_FCGI_BUFFER:-16k}"
say() { printf '[bench] %s\n' "$*"; }
die() { printf 'bench.sh: %s\n' "$*" >&2; exit 1; }

PARTS=""
for p in $(tr ',' ' ' <<<"$BENCH"); do
    case "$p" in
        all) PARTS="image video live" ;;
        image|video|live) PARTS="$PARTS $p" ;;
        *) die "BENCH=$BENCH: each part is image, video or live (or all)" ;;
    esac
done
want() { grep -qw -- "$1" <<<"$PARTS"; }
[ -n "${PARTS// /}" ] || die "BENCH is empty"
for v in LIVE_SNDBUF LIVE_FCGI_BUFFER; do
    case "${!v}" in none|[1-9]|[1-9]*[0-9kKmM]) ;; *) die "$v=${!v}: a size (8k) or none" ;; esac
done

[ -x "$BIN" ] || die "$BIN is missing: run make first"
[ -x "$PEERS/bench-image.sh" ] || die "no peer rig at $PEERS (set SHARED=)"
# the feed every live peer (and our [source cam1]) reads: the rig's FEED_URL,
# http://127.0.0.1:18090/feed.mjpg
FEED="$(PEERS="$PEERS" bash -c '. "$PEERS/lib/common.sh"; echo "$FEED_URL"')"
FEED_PORT="$(sed -E 's#^http://[^:/]+:([0-9]+)/.*#\1#' <<<"$FEED")"
[[ "$FEED_PORT" =~ ^[0-9]+$ ]] || die "cannot tell the feed's port from '$FEED'"

TMPD="$(mktemp -d)"
SERVE_PID="" LIVE_PID="" SAMPLER_PID="" FLOOR_PID=""
STARTED_GROUPS=""
stop_bg() {   # pid: SIGTERM, wait (its own cleanup stops the servers)
    local pid="$1"
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    fi
}
# shellcheck disable=SC2317  # reached through the trap
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    stop_bg "$SERVE_PID"
    stop_bg "$LIVE_PID"
    stop_bg "$SAMPLER_PID"
    stop_bg "$FLOOR_PID"
    for g in $STARTED_GROUPS; do
        "$PEERS/stop.sh" "$g" | sed 's/^/[peers] /'
    done
    rm -rf "$TMPD"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# whether every peer of a group is running now (started by someone else)
group_up() {   # group
    local names
    names="$(PEERS="$PEERS" bash -c '. "$PEERS/lib/common.sh"; group_list "$1"' _ "$1")" || return 1
    for n in $names; do
        n="${n%%:*}"
        kill -0 "$(cat "$PEERS/run/$n.pid" 2>/dev/null || echo x)" 2>/dev/null || return 1
    done
}
start_group() {   # group
    if group_up "$1"; then
        say "peer rig: $1 peers already running (left running)"
    else
        say "peer rig: start $1 peers"
        STARTED_GROUPS="$STARTED_GROUPS $1"
        "$PEERS/start.sh" "$1"
    fi
}
wait_state() {   # pid state log: waits for a server's JSON state file
    local pid="$1" state="$2" log="$3"
    for _ in $(seq 1 300); do
        [ -s "$state" ] && return 0
        kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; die "the server exited"; }
        sleep 0.1
    done
    cat "$log" >&2
    die "mediafcgi did not come up"
}
jget() { "$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"; }
# the table of a saved bench output: from its "== results" line on
table_of() { sed -n '/^== results/,$p' "$1"; }

say "parts: $PARTS"
say "peer rig: setup"
"$PEERS/setup.sh"

# ------------------------------------------------------------------ image, video
if want image || want video; then
    want image && start_group image
    want video && start_group video
    say "mediafcgi: 2 workers behind nginx, serving $PEERS/fixtures at /"
    MEDIAFCGI_BIN="$BIN" PYTHONPATH="$ROOT/tests" "$PY" "$ROOT/scripts/serve.py" --front nginx --port 0 \
        --media "$PEERS/fixtures" --mount / --workers 2 \
        --state "$TMPD/state.json" --rss "$TMPD/rss.txt" >"$TMPD/serve.log" 2>&1 &
    SERVE_PID=$!
    wait_state "$SERVE_PID" "$TMPD/state.json" "$TMPD/serve.log"
    URL="$(jget "$TMPD/state.json" url)"
    say "mediafcgi at $URL (e.g. $URL/medium.jpg?size=300x200, $URL/video.mp4?t=13.3&size=320x180)"

    if want image; then
        "$PEERS/bench-image.sh" "project=$URL" | tee "$TMPD/image.txt"
        if [ "${FORMAT_RUNS:-3}" != 0 ]; then
            echo
            SHARP_PORT="$(PEERS="$PEERS" bash -c '. "$PEERS/lib/common.sh"; peer_port sharp')"
            floor=(--floor "$PEERS/bin/tjfloor")
            [ "${FLOORS:-1}" = 0 ] && floor=()
            "$PY" "$ROOT/scripts/bench_formats.py" --ours "$URL" \
                --sharp "http://127.0.0.1:$SHARP_PORT" --fixtures "$PEERS/fixtures" \
                --formats "${FORMATS:-default jpeg:85 webp:80 avif:50}" \
                --runs "${FORMAT_RUNS:-3}" --duration "${DURATION:-10s}" \
                --warmup "${WARMUP:-2s}" "${floor[@]}" | tee "$TMPD/formats.txt"
        fi
    fi
    if want video; then
        echo
        "$PEERS/bench-video.sh" "project=$URL" | tee "$TMPD/video.txt"
        # format=hls: playlist and first-segment TTFB, remuxed segments/s
        # against `ffmpeg -ss T -t 6 -c copy -f mp4` per request (its own
        # stack and 720p file; HLS_RUNS=0 skips it)
        if [ "${HLS_RUNS:-3}" != 0 ]; then
            echo
            MEDIAFCGI_BIN="$BIN" "$PY" "$ROOT/scripts/bench_hls.py" --bin "$BIN" \
                --runs "${HLS_RUNS:-3}" | tee "$TMPD/hls.txt"
        fi
    fi

    # serve.py writes the memory peaks when it stops
    stop_bg "$SERVE_PID"
    SERVE_PID=""
    echo
    if [ -s "$TMPD/rss.txt" ]; then
        echo "mediafcgi $(cat "$TMPD/rss.txt")" | tee "$TMPD/rss-line.txt"
    else
        echo "mediafcgi worker memory: not sampled"; cat "$TMPD/serve.log" >&2
    fi
fi

# ------------------------------------------------------------------ live
if want live; then
    echo
    # bench-live.sh starts the feed unless the rig's own runs (its pid
    # file): a feed or anything else started by hand on its port stops it
    if ! kill -0 "$(cat "$PEERS/run/feed.pid" 2>/dev/null || echo x)" 2>/dev/null &&
        (exec 3<>"/dev/tcp/127.0.0.1/$FEED_PORT") 2>/dev/null; then
        die "port $FEED_PORT (the peers' feed) is held by a process the rig did not start: $(ss -ltnpH "sport = :$FEED_PORT" 2>/dev/null | sed 's/.*users://')"
    fi
    start_group live
    say "mediafcgi: [source cam1] <- $FEED, max_streams 32, behind nginx (listener sndbuf=$LIVE_SNDBUF, fastcgi_buffer_size $LIVE_FCGI_BUFFER)"
    mkdir "$TMPD/empty"
    cat >"$TMPD/live_stack.py" <<'EOF'
"""mediafcgi + nginx for the live bench (webservers.Stack), until SIGTERM."""
import json, os, signal, sys, time
state, feed, sndbuf, bufsize, media = sys.argv[1:6]
from support import webservers   # PYTHONPATH=$ROOT/tests


def bye(*_):
    raise SystemExit(0)


signal.signal(signal.SIGTERM, bye)
signal.signal(signal.SIGINT, bye)
extra = {"server": {"max_streams": 32, "status_path": "/status"},
         "source cam1": {"input": feed, "size": "640x360", "quality": 80, "idle_timeout": 10}}
s = webservers.Stack(front="nginx", media_root=media, mount="/media", workers=2,
                     config_extra=extra, deadline=20,
                     listen_sndbuf=None if sndbuf == "none" else sndbuf,
                     fastcgi_buffer_size=None if bufsize == "none" else bufsize)
try:
    s.start()
    with open(state + ".tmp", "w") as f:
        json.dump({"url": s.base, "mediafcgi_pid": s.mediafcgi_pid(),
                   "front_pid": s.procs["nginx"].pid, "dir": s.dir}, f)
    os.replace(state + ".tmp", state)
    while all(p.poll() is None for p in s.procs.values()):
        time.sleep(0.5)
    print("live stack: a server exited:\n" + s.logs(), file=sys.stderr)
    sys.exit(1)
finally:
    s.stop()
EOF
    MEDIAFCGI_BIN="$BIN" PYTHONPATH="$ROOT/tests" "$PY" "$TMPD/live_stack.py" "$TMPD/live.json" "$FEED" \
        "$LIVE_SNDBUF" "$LIVE_FCGI_BUFFER" "$TMPD/empty" >"$TMPD/live.log" 2>&1 &
    LIVE_PID=$!
    wait_state "$LIVE_PID" "$TMPD/live.json" "$TMPD/live.log"
    LURL="$(jget "$TMPD/live.json" url)"
    MPID="$(jget "$TMPD/live.json" mediafcgi_pid)"
    NPID="$(jget "$TMPD/live.json" front_pid)"
    say "mediafcgi at $LURL/live/cam1 (master $MPID, nginx $NPID)"
    # the project's CPU, split between the web server and mediafcgi: a
    # sampler reads /proc each 0.5 s; the split is taken over the seconds
    # in which mediafcgi had its viewers (its status page's count; after 3 s
    # of warm-up)
    cat >"$TMPD/cpusplit.py" <<'PYEOF'
import json, sys, time, urllib.request
if sys.argv[1] == "sample":   # PEERS_LIB MPID NGINX_PID OUT STATUS_URL
    sys.path.insert(0, sys.argv[2])
    import procstat   # the rig's: process trees, CPU incl. reaped children
    m, n, out = int(sys.argv[3]), int(sys.argv[4]), open(sys.argv[5], "w", buffering=1)
    m0, n0 = procstat.process_tree([m]), procstat.process_tree([n])
    while True:
        mt, nt = procstat.process_tree([m]), procstat.process_tree([n])
        try:
            with urllib.request.urlopen(sys.argv[6], timeout=2) as r:
                viewers = json.load(r)["viewers"]["active"]
        except (OSError, ValueError, KeyError):
            viewers = 0
        out.write("%f %f %f %d\n" % (time.monotonic(), procstat.cpu_seconds(m0, mt),
                                      procstat.cpu_seconds(n0, nt), viewers))
        time.sleep(0.5)
rows = [tuple(map(float, l.split())) for l in open(sys.argv[2]) if l.strip()]
busy = [r for r in rows if r[3] >= int(sys.argv[3])]
if len(busy) < 8:
    print("cpu split: mediafcgi never had its viewers while sampled")
    sys.exit(0)
a = next(r for r in busy if r[0] >= busy[0][0] + 3)
b = busy[-2]
d, v = b[0] - a[0], int(sys.argv[4])
print("project CPU split over %.1f s with the viewers connected: nginx %.2f s (%.2f ms/viewer/s), "
      "mediafcgi %.2f s (%.2f ms/viewer/s)" % (d, b[2] - a[2], 1000 * (b[2] - a[2]) / d / v,
                                          b[1] - a[1], 1000 * (b[1] - a[1]) / d / v))
PYEOF
    "$PY" "$TMPD/cpusplit.py" sample "$PEERS/lib" "$MPID" "$NPID" "$TMPD/cpu.samples" "$LURL/status" &
    SAMPLER_PID=$!
    # the floor row: build/livefloor, one C process fanning the feed out
    # to every viewer with TCP_NOTSENT_LOWAT (no web server, no FastCGI)
    floor=() FLOOR_PID=""
    if [ "${LIVE_FLOOR:-1}" = 1 ] && [ -x "$ROOT/build/livefloor" ]; then
        fport="$(PYTHONPATH="$ROOT/tests" "$PY" -c 'from support import webservers; print(webservers.free_port())')"
        "$ROOT/build/livefloor" 127.0.0.1 "$FEED_PORT" "/${FEED#http://*/}" "$fport" 2>"$TMPD/floor.log" &
        FLOOR_PID=$!
        sleep 0.5
        floor=("floor=http://127.0.0.1:$fport/")
    fi
    CPU_PIDS="project=$MPID,$NPID floor=$FLOOR_PID" "$PEERS/bench-live.sh" \
        "project=$LURL/live/cam1" "${floor[@]}" | tee "$TMPD/live.txt"
    stop_bg "$FLOOR_PID"
    kill "$SAMPLER_PID" 2>/dev/null; wait "$SAMPLER_PID" 2>/dev/null || true
    say "$("$PY" "$TMPD/cpusplit.py" split "$TMPD/cpu.samples" $((${VIEWERS:-20} / 2)) "${VIEWERS:-20}")" \
        | tee -a "$TMPD/live.txt"
    echo
    curl -s --max-time 5 "$LURL/status" | "$PY" -c '
import json, sys
s = json.load(sys.stdin)
print("mediafcgi status after the run: streams %s; viewers %s; sources %s" % (
    s["streams"], s["viewers"], s["sources"]))' \
        | tee "$TMPD/live-status.txt" || true
    stop_bg "$LIVE_PID"
    LIVE_PID=""
    # live at scale: 1000 viewers of one source (build/viewers, one epoll
    # client), mediafcgi's default config behind nginx; SCALE_RUNS=0 skips
    if [ "${SCALE_RUNS:-3}" != 0 ] && [ -x "$ROOT/build/viewers" ]; then
        say "live at scale: ${VIEWERS_SCALE:-1000} viewers, ${SCALE_RUNS:-3} runs"
        MEDIAFCGI_BIN="$BIN" PYTHONPATH="$ROOT/tests" "$PY" "$ROOT/scripts/bench_live_scale.py" \
            --client "$ROOT/build/viewers" | tee -a "$TMPD/live-status.txt" || true
    fi
    # live in H.264: 20 viewers (5 slow) of /live/cam1?format=mp4 against
    # the same source as MJPEG, a feed of its own (scripts/bench_live_h264.py);
    # LIVE_H264_RUNS=0 skips
    if [ "${LIVE_H264_RUNS:-3}" != 0 ]; then
        say "live H.264: fMP4 vs MJPEG, ${LIVE_H264_RUNS:-3} runs"
        MEDIAFCGI_BIN="$BIN" "$PY" "$ROOT/scripts/bench_live_h264.py" --runs "${LIVE_H264_RUNS:-3}" \
            --peers "$PEERS" | tee "$TMPD/live-h264.txt" || true
    fi
fi

# ------------------------------------------------------------------ summary
echo
echo "================================================================== summary"
for p in image formats video hls live; do
    [ -s "$TMPD/$p.txt" ] || continue
    echo
    echo "-- $p"
    table_of "$TMPD/$p.txt"
done
[ -s "$TMPD/rss-line.txt" ] && { echo; cat "$TMPD/rss-line.txt"; }
[ -s "$TMPD/live-status.txt" ] && { echo; cat "$TMPD/live-status.txt"; }
[ -s "$TMPD/live-h264.txt" ] && { echo; sed -n '/^live H.264 vs MJPEG/,$p' "$TMPD/live-h264.txt"; }
exit 0
