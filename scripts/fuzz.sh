#!/usr/bin/env bash
# Runs every libFuzzer target for FUZZ_TIME seconds (default 30) on seed
# corpora made here: queries, URIs, and small media files made with gm and
# ffmpeg. Crashes are saved in build/fuzz/crashes/ and fail the run; turn
# each into a regression test (tests/fuzz/regress/ is replayed by make check).
#   scripts/fuzz.sh [SECONDS]
# env: FUZZ_SEED=N  libFuzzer's -seed (the same mutations in the same order:
#                   make check uses 1, so CI replays what passed here)
#      FUZZ_FRESH=1 start from the seed corpus only (as on a clean clone)
#      BUILD=DIR    the build directory the targets are in (as make's
#                   BUILD=; default build): DIR/fuzz/fuzz_*
# fuzz_video's inputs are a query, a newline, then the file: the seeds pair
# each query below with each clip, so the pixel planner and the stream
# paths are fuzzed with the file.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD="${BUILD:-build}"
case "$BUILD" in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
B="$BUILD/fuzz"
T="${1:-${FUZZ_TIME:-30}}"
C="$B/corpus"
SEEDARG=()
if [ -n "${FUZZ_SEED:-}" ]; then SEEDARG=(-seed="$FUZZ_SEED"); fi
if [ "${FUZZ_FRESH:-0}" = 1 ]; then C="$B/corpus-fresh"; rm -rf "$C"; fi
mkdir -p "$C/params" "$C/path" "$C/image" "$C/video" "$B/crashes"

seed() { printf '%s' "$2" > "$C/$1/seed-$(printf '%s' "$2" | md5sum | cut -c1-12)"; }
for q in "size=300x200" "size=300x&fit=cover&gravity=north" "crop=1,2,3,4&rotate=90&flip=h" \
    "format=webp&q=80&bg=ff00aa&blur=1.5&sharpen=0.3&dpr=2&enlarge=1&frame=0" \
    "t=00:01:02.5&seek=key&sprite=5x4&info" "t=50%&format=vtt" "preset=thumb&sig=$(printf 'a%.0s' {1..64})" \
    "size=%33x%34" "a=b&&c" "gravity=smart&format=auto"; do seed params "$q"; done
for u in "/a.jpg" "/media/a/b.jpg?x" "/media/%2e%2e/etc/passwd" "/a%00b" "/a\\b" "//media//x/./y.png" \
    "/media/%252e%252e/x" "/$(printf 'a/%.0s' {1..40})z"; do seed path "$u"; done

mk() {  # selector byte + file
    local name="$1" sel="$2" src="$3"
    { printf "\\x$sel"; cat "$src"; } > "$C/$name" 2>/dev/null || true
}
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
if command -v gm >/dev/null; then
    gm convert -size 64x48 gradient:red-blue "$tmp/a.jpg"
    gm convert -size 64x48 gradient:green-white "$tmp/a.png"
    gm convert -size 32x32 xc:red xc:blue -delay 10 "$tmp/a.gif"
    gm convert -size 40x30 plasma:fractal "$tmp/a.webp" 2>/dev/null || gm convert -size 40x30 xc:gray "$tmp/a.webp"
    gm convert -size 40x30 xc:gray "$tmp/a.tiff"
    for i in 00 01 02 06; do
        for f in a.jpg a.png a.gif a.webp a.tiff; do mk "image/$i-$f" "$i" "$tmp/$f"; done
    done
fi
mkq() {  # query line + file
    local name="$1" q="$2" src="$3"
    { printf '%s\n' "$q"; cat "$src"; } > "$C/$name" 2>/dev/null || true
}
if command -v ffmpeg >/dev/null; then
    ff() { ffmpeg -hide_banner -loglevel error -y -f lavfi -i testsrc2=size=64x48:rate=10:duration=1 "$@"; }
    ff -c:v libx264 -g 5 "$tmp/v.mp4"
    ff -c:v libvpx -g 5 "$tmp/v.webm"
    ff -c:v mpeg4 "$tmp/v.avi"
    ff -c:v libx264 -f mpegts "$tmp/v.ts"
    # pixel aspect ratios far out either way, in the container and the codec
    ff -vf setsar=sar=1000/1:max=1000 -c:v libx264 -g 5 "$tmp/sar.mkv"
    ff -vf setsar=sar=1/1000:max=1000 -c:v mpeg4 "$tmp/sar.avi"
    n=0
    for q in "info" "t=0.5&size=32x" "sprite=2x1&size=16x16" "sprite=20x5&size=64x64&format=vtt" \
        "size=16384x1&fit=cover&enlarge=1" "size=1x16384&fit=cover&enlarge=1&dpr=4&rotate=90" \
        "size=200x200&fit=fill&enlarge=1&flip=v" "t=50%&size=100x20&fit=contain&gravity=east&bg=ff0000" \
        "sprite=3x2&size=40x40&fit=cover&enlarge=1&rotate=270&format=png" \
        "format=mjpeg&size=40x30&fit=cover" "format=mjpeg&size=16384x1&fit=cover&enlarge=1" \
        "format=mp4&size=32x32&fit=fill&enlarge=1" "format=webm&size=16x16&rotate=90&start=0.2"; do
        n=$((n + 1))
        for f in v.mp4 v.webm v.avi v.ts sar.mkv sar.avi; do mkq "video/q$n-$f" "$q" "$tmp/$f"; done
    done
fi

fail=0
for t in params path image video; do
    bin="$B/fuzz_$t"
    [ -x "$bin" ] || { echo "fuzz: $bin missing (make fuzz-build)" >&2; exit 1; }
    # Every crash found so far stays fixed: replay the saved inputs first.
    reg="$ROOT/tests/fuzz/regress/$t"
    if [ -d "$reg" ] && [ -n "$(ls -A "$reg")" ]; then
        if ! ASAN_OPTIONS=detect_leaks=1 "$bin" "$reg"/* > "$B/regress_$t.log" 2>&1; then
            echo "fuzz_$t: a regression input fails again: see $B/regress_$t.log" >&2
            tail -30 "$B/regress_$t.log" >&2
            fail=1
        else
            echo "== fuzz_$t: $(ls "$reg" | wc -l) regression input(s) pass"
        fi
    fi
    echo "== fuzz_$t: ${T}s"
    if ! ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 \
        "$bin" "${SEEDARG[@]}" -max_total_time="$T" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
        -artifact_prefix="$B/crashes/$t-" -print_final_stats=1 "$C/$t" \
        > "$B/fuzz_$t.log" 2>&1; then
        echo "fuzz_$t FAILED: see $B/fuzz_$t.log and $B/crashes/" >&2
        tail -40 "$B/fuzz_$t.log" >&2
        fail=1
    else
        grep -E "stat::number_of_executed_runs|cov:" "$B/fuzz_$t.log" | tail -2
    fi
done
exit $fail
