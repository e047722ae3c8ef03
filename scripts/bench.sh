#!/usr/bin/env bash
# `make bench` (the Makefile builds first): mediafcgi (2 workers) behind
# nginx on a free loopback port, benchmarked side by side with the image
# peers of ../shared/peers (sharp, Pillow, convert, nginx image_filter):
#   peers/setup.sh, peers/start.sh image, our stack serving peers/fixtures
#   at / (so /<fixture>?size=300x200 works), peers/bench-image.sh
#   project=URL, then our servers and the peers are stopped.
# While the benchmark runs the workers' memory is sampled from /proc and
# printed after the table. Knobs of bench-image.sh pass through
# (DURATION=5s FLOORS=0 PEERS_ONLY=sharp ...); SHARED=/path/to/shared.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PY=/usr/bin/python3
BIN="${MEDIAFCGI_BIN:-$ROOT/build/mediafcgi}"
if [ -z "${SHARED:-}" ]; then
    top="$(git -C "$ROOT" rev-parse --show-toplevel 2>/dev/null || echo "$ROOT")"
    SHARED="$(cd "$top/.." && pwd)/shared"
fi
PEERS="$SHARED/peers"
say() { printf '[bench] %s\n' "$*"; }
die() { printf 'bench.sh: %s\n' "$*" >&2; exit 1; }

[ -x "$BIN" ] || die "$BIN is missing: run make first"
[ -x "$PEERS/bench-image.sh" ] || die "no peer rig at $PEERS (set SHARED=)"

TMPD="$(mktemp -d)"
SERVE_PID=""
PEERS_STARTED=0
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if [ -n "$SERVE_PID" ] && kill -0 "$SERVE_PID" 2>/dev/null; then
        kill -TERM "$SERVE_PID" 2>/dev/null || true
        wait "$SERVE_PID" 2>/dev/null || true
    fi
    [ "$PEERS_STARTED" = 1 ] && "$PEERS/stop.sh" image | sed 's/^/[peers] /'
    rm -rf "$TMPD"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say "peer rig: setup"
"$PEERS/setup.sh"
say "peer rig: start image peers"
PEERS_STARTED=1
"$PEERS/start.sh" image

say "mediafcgi: 2 workers behind nginx, serving $PEERS/fixtures at /"
MEDIAFCGI_BIN="$BIN" "$PY" "$ROOT/scripts/serve.py" --front nginx --port 0 \
    --media "$PEERS/fixtures" --mount / --workers 2 \
    --state "$TMPD/state.json" --rss "$TMPD/rss.txt" >"$TMPD/serve.log" 2>&1 &
SERVE_PID=$!
for _ in $(seq 1 300); do
    [ -s "$TMPD/state.json" ] && break
    kill -0 "$SERVE_PID" 2>/dev/null || { cat "$TMPD/serve.log" >&2; die "serve.py exited"; }
    sleep 0.1
done
[ -s "$TMPD/state.json" ] || { cat "$TMPD/serve.log" >&2; die "mediafcgi did not come up"; }
URL="$("$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))["url"])' "$TMPD/state.json")"
say "mediafcgi at $URL (e.g. $URL/medium.jpg?size=300x200)"

"$PEERS/bench-image.sh" "project=$URL"

# serve.py writes the memory peaks when it stops
kill -TERM "$SERVE_PID"
wait "$SERVE_PID" || true
SERVE_PID=""
echo
if [ -s "$TMPD/rss.txt" ]; then
    echo "mediafcgi $(cat "$TMPD/rss.txt")"
else
    echo "mediafcgi worker memory: not sampled"; cat "$TMPD/serve.log" >&2
fi
