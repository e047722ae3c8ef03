#!/usr/bin/env bash
# soak.sh - the soak benchmark: mediafcgi (2 workers) behind nginx on a free
# loopback port (scripts/serve.py), wrk -t2 -c16 on a mix of thumbnail URLs
# for DURATION seconds after a warm-up; reports the errors (target 0: wrk's
# socket errors and non-2xx/3xx answers, and mediafcgi's own 4xx/5xx, crash
# and timeout counts) and each worker's RSS growth (target < 5%), then stops
# everything it started. RssAnon (the worker's own memory: VmRSS also counts
# the page-cache pages of the source file a request has mapped, 4 MB for
# large.jpg, so it jumps with whatever is in flight) is read from /proc
# every second: idle after
# the warm-up and at the end, and under load (the largest sample of each
# SAMPLE-s window); the target is judged on the first window against the
# last, as idle RSS swings by MiBs with what the last requests left in the
# allocator.
#
#   scripts/soak.sh                  the full soak: 30 s warm-up, 600 s load
#   DURATION=60 scripts/soak.sh      a shorter run
#
# Knobs (environment): DURATION (s, 600), WARMUP (s, 30), SAMPLE (s between
# RSS samples, 30), CONNS (16), THREADS (2), WORKERS (2), FRONT (nginx),
# MEDIAFCGI_BIN, SHARED (the shared dir holding peers/fixtures).
# Media: ../shared/peers/fixtures (large.jpg, medium.jpg) when present, else
# the `make run` samples in build/run/media (drawn if missing).
# Exit status: 0 when both targets are met, 1 when one is missed or
# something failed.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PY=/usr/bin/python3
BIN="${MEDIAFCGI_BIN:-$ROOT/build/mediafcgi}"
DURATION="${DURATION:-600}"
WARMUP="${WARMUP:-30}"
SAMPLE="${SAMPLE:-30}"
CONNS="${CONNS:-16}"
THREADS="${THREADS:-2}"
WORKERS="${WORKERS:-2}"
FRONT="${FRONT:-nginx}"
if [ -z "${SHARED:-}" ]; then
    top="$(git -C "$ROOT" rev-parse --show-toplevel 2>/dev/null || echo "$ROOT")"
    SHARED="$(cd "$top/.." && pwd)/shared"
fi
say() { printf '[soak] %s\n' "$*"; }
die() { printf 'soak.sh: %s\n' "$*" >&2; exit 1; }

for v in DURATION WARMUP SAMPLE CONNS THREADS WORKERS; do
    if ! [[ "${!v}" =~ ^[1-9][0-9]*$ ]]; then
        die "$v must be a whole number > 0 (got '${!v}')"
    fi
done
[ -x "$BIN" ] || die "$BIN is missing: run make first"
command -v wrk >/dev/null || die "wrk is not installed (scripts/deps.sh)"
command -v curl >/dev/null || die "curl is not installed"

# ------------------------------------------------------------------ media
FIXTURES="$SHARED/peers/fixtures"
if [ -f "$FIXTURES/large.jpg" ] && [ -f "$FIXTURES/medium.jpg" ]; then
    MEDIA="$FIXTURES"
    FILES=(large.jpg medium.jpg)
else
    MEDIA="$ROOT/build/run/media"
    if [ ! -f "$MEDIA/.samples-done" ]; then
        say "no fixtures at $FIXTURES: drawing the make-run samples in $MEDIA"
        rm -rf "$MEDIA" "$ROOT/build/run/www"
        "$PY" "$ROOT/scripts/samples.py" --media "$MEDIA" --docroot "$ROOT/build/run/www" --mount /media
        touch "$MEDIA/.samples-done"
    fi
    FILES=(landscape.jpg portrait.jpg square.jpg panorama.jpg subject.jpg small.webp logo.png)
fi
VARIANTS=(
    "size=150x100"
    "size=300x200"
    "size=640x"
    "size=x480"
    "size=300x300&fit=cover"
    "size=300x300&fit=contain"
    "size=200x200&fit=fill"
    "size=400x300&fit=cover&format=webp"
    "size=256x&format=png"
)
PATHS=()
for f in "${FILES[@]}"; do
    for v in "${VARIANTS[@]}"; do
        PATHS+=("/$f?$v")
    done
done

TMPD="$(mktemp -d)"
SERVE_PID=""
WRK_PID=""
# shellcheck disable=SC2317  # run by the EXIT trap
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if [ -n "$WRK_PID" ] && kill -0 "$WRK_PID" 2>/dev/null; then
        kill -TERM "$WRK_PID" 2>/dev/null || true
        wait "$WRK_PID" 2>/dev/null || true
    fi
    if [ -n "$SERVE_PID" ] && kill -0 "$SERVE_PID" 2>/dev/null; then
        kill -TERM "$SERVE_PID" 2>/dev/null || true
        wait "$SERVE_PID" 2>/dev/null || true
    fi
    rm -rf "$TMPD"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ------------------------------------------------------------------ wrk script
{
    echo "local paths = {"
    for p in "${PATHS[@]}"; do printf '  "%s",\n' "$p"; done
    cat <<'LUA'
}
local n = #paths
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("id", threads)
end
local i = 0
function init(args)
  -- each thread starts at another place in the cycle
  i = ((id or 1) - 1) * math.floor(n / 2)
end
function request()
  i = i % n + 1
  return wrk.format("GET", paths[i])
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "SOAK requests=%d bytes=%d duration_us=%d connect=%d read=%d write=%d status=%d timeout=%d p50_us=%d p99_us=%d max_us=%d\n",
    summary.requests, summary.bytes, summary.duration, e.connect, e.read, e.write,
    e.status, e.timeout, latency:percentile(50), latency:percentile(99), latency.max))
end
LUA
} >"$TMPD/mix.lua"

# ------------------------------------------------------------------ servers
say "mediafcgi ($WORKERS workers) behind $FRONT, serving $MEDIA at /"
MEDIAFCGI_BIN="$BIN" PYTHONPATH="$ROOT/tests" "$PY" "$ROOT/scripts/serve.py" --front "$FRONT" --port 0 \
    --media "$MEDIA" --mount / --workers "$WORKERS" --set server.status_path=/_status \
    --state "$TMPD/state.json" >"$TMPD/serve.log" 2>&1 &
SERVE_PID=$!
for _ in $(seq 1 300); do
    [ -s "$TMPD/state.json" ] && break
    kill -0 "$SERVE_PID" 2>/dev/null || { cat "$TMPD/serve.log" >&2; die "serve.py exited"; }
    sleep 0.1
done
[ -s "$TMPD/state.json" ] || { cat "$TMPD/serve.log" >&2; die "mediafcgi did not come up"; }
read -r URL MASTER STACKDIR < <("$PY" -c 'import json, sys; s = json.load(open(sys.argv[1]))
print(s["url"], s["mediafcgi_pid"], s["dir"])' "$TMPD/state.json")
say "mediafcgi master $MASTER at $URL (logs in $STACKDIR)"

for p in "${PATHS[@]}"; do
    code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 60 "$URL$p")"
    [ "$code" = 200 ] || die "GET $p answered $code, not 200 (see $STACKDIR/mediafcgi.log)"
done
say "${#PATHS[@]} URLs answer 200: ${FILES[*]} x ${#VARIANTS[@]} variants"

workers() {
    # the master's children, from /proc (no dependency on procps)
    local d ppid
    for d in /proc/[0-9]*; do
        ppid="$(awk '{ sub(/^.*\) /, ""); print $2 }' "$d/stat" 2>/dev/null)" || continue
        if [ "$ppid" = "$MASTER" ]; then echo "${d#/proc/}"; fi
    done | sort -n
}
rss_kb() {    # RssAnon of a pid in kB (empty if it is gone); no fork per line
    local k v rest
    while read -r k v rest; do
        if [ "$k" = "RssAnon:" ]; then echo "$v"; return; fi
    done <"/proc/$1/status" 2>/dev/null || true
}
# Every sample goes to RSSLOG as "SECOND PHASE PID KB" (PHASE: idle0, load,
# idle1); the report is computed from it.
RSSLOG="$TMPD/rss.log"
: >"$RSSLOG"
sample() {    # $1 phase, $2 second of the soak
    local pid kb
    for pid in $START_WORKERS; do
        kb="$(rss_kb "$pid")"
        echo "$2 $1 $pid ${kb:-gone}" >>"$RSSLOG"
    done
}
show() {      # $1 label, $2 phase, $3 first second: the largest sample per pid since then
    awk -v l="$1" -v ph="$2" -v from="$3" '
        $2 == ph && $1 >= from && $4 != "gone" {
            if (!($3 in m) || $4 + 0 > m[$3]) m[$3] = $4 + 0
            if (!($3 in o)) { o[$3] = ++n; k[n] = $3 }
        }
        END {
            printf "  %-14s", l ":"
            for (i = 1; i <= n; i++) printf " %s=%.1fMiB", k[i], m[k[i]] / 1024
            print ""
        }' "$RSSLOG"
}

wrk_run() {   # $1: seconds, $2: output file
    wrk -t"$THREADS" -c"$CONNS" -d"$1"s --timeout 30s -s "$TMPD/mix.lua" "$URL/" >"$2" 2>&1 &
    WRK_PID=$!
}

# ------------------------------------------------------------------ warm-up
say "warm-up: wrk -t$THREADS -c$CONNS -d${WARMUP}s"
wrk_run "$WARMUP" "$TMPD/warmup.txt"
wait "$WRK_PID" || { cat "$TMPD/warmup.txt" >&2; die "wrk failed in the warm-up"; }
WRK_PID=""
START_WORKERS="$(workers | tr '\n' ' ')"
[ -n "$START_WORKERS" ] || die "no workers under master $MASTER"
sleep 1      # the last warm-up answers are out: the workers are idle
echo "RSS samples (RssAnon per worker pid; under load: the largest of the 1-s samples"
echo "of each ${SAMPLE}-s window):"
sample idle0 0
show "after warm-up" idle0 0

STATUS0="$(curl -s --max-time 10 "$URL/_status" || true)"

# ------------------------------------------------------------------ the soak
say "soak: wrk -t$THREADS -c$CONNS -d${DURATION}s on ${#PATHS[@]} thumbnail URLs"
wrk_run "$DURATION" "$TMPD/soak.txt"
t0=$SECONDS
next=$SAMPLE
while kill -0 "$WRK_PID" 2>/dev/null; do
    sleep 1
    kill -0 "$WRK_PID" 2>/dev/null || break
    now=$((SECONDS - t0))
    sample load "$now"
    if [ "$now" -ge "$next" ]; then
        show "$(printf '%ds' "$next")" load $((next - SAMPLE + 1))
        next=$((next + SAMPLE))
    fi
done
wait "$WRK_PID" || { cat "$TMPD/soak.txt" >&2; die "wrk failed"; }
WRK_PID=""
END_S=$((SECONDS - t0))
if [ $((next - SAMPLE)) -lt "$END_S" ] && grep -q " load " "$RSSLOG"; then
    show "${END_S}s" load $((next - SAMPLE + 1))    # the last, shorter window
fi
sleep 1      # idle again, as after the warm-up
sample idle1 "$END_S"
show "end (idle)" idle1 0
END_WORKERS="$(workers | tr '\n' ' ')"

# ------------------------------------------------------------------ report
SOAK="$(grep '^SOAK ' "$TMPD/soak.txt" || true)"
[ -n "$SOAK" ] || { cat "$TMPD/soak.txt" >&2; die "no summary from wrk"; }
get() { sed -n "s/.* $1=\([0-9]*\).*/\1/p" <<<" $SOAK"; }
REQS=$(get requests); DUR_US=$(get duration_us)
E_CONN=$(get connect); E_READ=$(get read); E_WRITE=$(get write)
E_STATUS=$(get status); E_TIMEOUT=$(get timeout)
ERRORS=$((E_CONN + E_READ + E_WRITE + E_STATUS + E_TIMEOUT))
STATUS1="$(curl -s --max-time 10 "$URL/_status" || true)"
FAIL=0

echo
echo "== soak: ${DURATION}s, wrk -t$THREADS -c$CONNS, $WORKERS workers behind $FRONT, media ${FILES[*]}"
"$PY" - "$REQS" "$DUR_US" "$SOAK" <<'EOF'
import sys
reqs, dur_us, line = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
kv = dict(x.split("=") for x in line.split()[1:])
print("requests: %d in %.1f s = %.1f req/s; latency p50 %.1f ms, p99 %.1f ms, max %.1f ms"
      % (reqs, dur_us / 1e6, reqs / (dur_us / 1e6), int(kv["p50_us"]) / 1000,
         int(kv["p99_us"]) / 1000, int(kv["max_us"]) / 1000))
EOF
echo "errors: non-2xx/3xx $E_STATUS, socket connect $E_CONN read $E_READ write $E_WRITE timeout $E_TIMEOUT"
if [ -n "$STATUS0" ] && [ -n "$STATUS1" ]; then
    # mediafcgi's own counts over the soak (its status page before and after)
    "$PY" -c '
import json, sys
a, b = json.loads(sys.argv[1]), json.loads(sys.argv[2])
d = {k: b["requests"][k] - a["requests"][k] for k in b["requests"]}
dc, dt = b["crashes"] - a["crashes"], b["timeouts"] - a["timeouts"]
print("mediafcgi counted during the soak: 2xx %d, 3xx %d, 4xx %d, 5xx %d, "
      "worker crashes %d, request timeouts %d" % (d["2xx"], d["3xx"], d["4xx"], d["5xx"], dc, dt))
sys.exit(1 if dc or dt or d["4xx"] or d["5xx"] else 0)' "$STATUS0" "$STATUS1" \
        || ERRORS=$((ERRORS + 1))
else
    echo "mediafcgi status page: not read"
fi
if [ "$START_WORKERS" != "$END_WORKERS" ]; then
    echo "workers changed during the soak: [$START_WORKERS] -> [$END_WORKERS] (a crash or a recycle)"
    ERRORS=$((ERRORS + 1))
fi
if [ "$ERRORS" -eq 0 ]; then
    echo "errors: 0 (target 0): PASS"
else
    echo "errors: $ERRORS (target 0): FAIL"
    FAIL=1
fi

# Idle RSS after a run depends on what the last requests left in the
# allocator's free lists (MiBs either way after 20 MP JPEGs), so the target
# is judged on the working set under load: the largest sample of the first
# window against the largest of the last one. Both are printed.
"$PY" - "$RSSLOG" "$SAMPLE" "$END_S" <<'EOF' || FAIL=1
import sys
path, window, end = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rows = [line.split() for line in open(path)]
pids = list(dict.fromkeys(r[2] for r in rows))
w = min(window, end)
print("%-8s %16s %10s %7s   %15s %10s %7s" % ("worker", "idle: warm-up", "end", "growth",
      "load: first %ds" % w, "last %ds" % w, "growth"))
ok = True
for pid in pids:
    mine = [r for r in rows if r[2] == pid]
    if any(r[3] == "gone" for r in mine):
        print("%-8s (gone during the soak)" % pid)
        ok = False
        continue

    def kb(phase, lo=-1, hi=1 << 30):
        return [int(r[3]) for r in mine if r[1] == phase and lo <= int(r[0]) <= hi]
    i0, i1 = kb("idle0")[0], kb("idle1")[0]
    first, last = kb("load", 0, window), kb("load", end - window + 1, end)
    if not first or not last:
        print("%-8s no samples under load" % pid)
        ok = False
        continue
    f, l = max(first), max(last)
    g_idle, g_load = (i1 - i0) * 100.0 / i0, (l - f) * 100.0 / f
    print("%-8s %13.1fMiB %7.1fMiB %+6.1f%%   %12.1fMiB %7.1fMiB %+6.1f%%"
          % (pid, i0 / 1024, i1 / 1024, g_idle, f / 1024, l / 1024, g_load))
    ok = ok and g_load < 5
print("RSS growth under load < 5%% for every worker: %s" % ("PASS" if ok else "FAIL"))
sys.exit(0 if ok else 1)
EOF

kill -TERM "$SERVE_PID" 2>/dev/null || true
wait "$SERVE_PID" || true
SERVE_PID=""
exit "$FAIL"
