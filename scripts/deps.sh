#!/usr/bin/env bash
# Installs the Debian packages that building, testing, running and
# benchmarking mediafcgi need, and only the missing ones. Idempotent and
# quiet when everything is there (make check/run/bench call it every time).
#
# Installing is the only change it makes to the machine: it never stops,
# disables or reconfigures a service. The tests and `make run` start their
# own web servers on loopback ports chosen at run time, so a system nginx,
# lighttpd or Apache that runs already is left as it is. While it installs,
# a policy-rc.d (only if none exists) keeps the new packages' maintainer
# scripts from starting their services: a web server it installs for the
# tests is not left listening on port 80 of every interface.
set -euo pipefail

# build: compiler, the libraries (pkg-config names them in the Makefile)
# tests: the web servers, pytest + Pillow, and the tools that make fixtures
# (gm, ffmpeg, heif-enc, avifenc, cjxl) and read metrics (prometheus_client)
# browser test: Debian's chromium (playwright-core from npm drives it, never a
# downloaded browser); deployment tests: Apache (mod_proxy_fcgi, mod_fcgid);
# make deb: debhelper, lintian; make package-test: systemd (systemd-analyze verify); make fuzz:
# clang with its libFuzzer/sanitizer runtime
# [program] tests and make bench-program: cjpeg (libjpeg-turbo-progs), gunicorn
PKGS="gcc make pkg-config
  libgraphicsmagick1-dev libfcgi-dev libinih-dev libcmocka-dev libssl-dev
  libavdevice-dev libavformat-dev libavcodec-dev libswscale-dev libavutil-dev
  liblcms2-dev libwebp-dev zlib1g-dev libavif-dev libjxl-dev libpng-dev
  nginx lighttpd spawn-fcgi
  python3-pytest python3-pil python3-prometheus-client graphicsmagick
  wrk curl ffmpeg libheif-examples libavif-bin libjxl-tools
  apache2 libapache2-mod-fcgid chromium
  debhelper lintian fakeroot dpkg-dev systemd
  clang libclang-rt-14-dev
  libjpeg-turbo-progs gunicorn"

say() { printf '[deps] %s\n' "$*"; }

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || { say "not root and no sudo: cannot install packages" >&2; exit 1; }
    SUDO="sudo"
fi

missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' \
        || missing="$missing $p"
done

if [ -n "$missing" ]; then
    say "installing:$missing"
    $SUDO apt-get update -qq
    # policy-rc.d keeps the maintainer scripts from starting services while
    # installing (exit 101 = action forbidden); only ours is removed after.
    policy=/usr/sbin/policy-rc.d
    own_policy=0
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
        $SUDO chmod 755 "$policy"
        own_policy=1
    fi
    # shellcheck disable=SC2086
    if ! $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
            --no-install-recommends $missing; then
        [ "$own_policy" = 1 ] && $SUDO rm -f "$policy"
        say "apt-get install failed" >&2
        exit 1
    fi
    [ "$own_policy" = 1 ] && $SUDO rm -f "$policy"
fi

exit 0
