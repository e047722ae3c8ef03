#!/usr/bin/env bash
# `make run` (the Makefile builds first): sample media in build/run/media
# (made once), an index page in build/run/www, mediafcgi behind nginx on
# http://127.0.0.1:8080/ (the page at /, thumbnails under /media/), in the
# foreground until Ctrl-C or SIGTERM, which stop everything it started.
#   PORT=8081 make run     another port
#   FRONT=lighttpd make run
#   SAMPLES=1 make run     draw the samples again
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PY=/usr/bin/python3
PORT="${PORT:-8080}"
FRONT="${FRONT:-nginx}"
RUNDIR="$ROOT/build/run"
MEDIA="$RUNDIR/media"
WWW="$RUNDIR/www"
BIN="${MEDIAFCGI_BIN:-$ROOT/build/mediafcgi}"

[ -x "$BIN" ] || { echo "run.sh: $BIN is missing: run make first" >&2; exit 1; }
if [ "${SAMPLES:-0}" = 1 ] || [ ! -f "$MEDIA/.samples-done" ] || [ ! -f "$WWW/index.html" ]; then
    rm -rf "$MEDIA" "$WWW"
    "$PY" "$ROOT/scripts/samples.py" --media "$MEDIA" --docroot "$WWW" --mount /media
    touch "$MEDIA/.samples-done"
fi

# serve.py refuses a taken port with a message and exit status 2.
# It imports the test support package (tests/support/webservers.py).
export MEDIAFCGI_BIN="$BIN" PYTHONPATH="$ROOT/tests"
exec "$PY" "$ROOT/scripts/serve.py" --front "$FRONT" --port "$PORT" \
    --media "$MEDIA" --docroot "$WWW" --mount /media --workers 2
