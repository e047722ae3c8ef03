#!/usr/bin/env bash
# Installs the Debian packages that building, testing, running and
# benchmarking mediafcgi need, and only the missing ones. Idempotent and
# quiet when everything is there (make check/run/bench call it every time).
#
# Debian's nginx and lighttpd packages start a system service on port 80 when
# installed; the tests and `make run` start their own instances on loopback
# and never use those, so they are stopped and disabled here (where service
# management exists at all: in a container it often does not).
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
  libavformat-dev libavcodec-dev libswscale-dev libavutil-dev
  liblcms2-dev libwebp-dev
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

# Stops a system web server the package may have started, so it never holds
# a port the tests or `make run` want. Every step may fail harmlessly (no
# systemd, no init script, not running).
stop_service() {   # name
    local s="$1"
    if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$s" 2>/dev/null; then
        $SUDO systemctl stop "$s" >/dev/null 2>&1 || true
        $SUDO systemctl disable "$s" >/dev/null 2>&1 || true
        say "stopped and disabled the system $s service"
    fi
    if command -v service >/dev/null 2>&1 && service "$s" status >/dev/null 2>&1; then
        $SUDO service "$s" stop >/dev/null 2>&1 || true
        say "stopped the system $s service"
    fi
    # Without an init system (containers) keep it from starting at boot anyway.
    if [ -x "/etc/init.d/$s" ] && command -v update-rc.d >/dev/null 2>&1; then
        $SUDO update-rc.d "$s" disable >/dev/null 2>&1 || true
    fi
}

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
    for s in nginx lighttpd apache2; do
        case " $missing " in *" $s "*) stop_service "$s" ;; esac
    done
fi

# A system nginx/lighttpd/apache2 started earlier (or by hand) may still be running.
for s in nginx lighttpd apache2; do
    pidfile="/run/$s.pid"
    [ "$s" = apache2 ] && pidfile=/run/apache2/apache2.pid
    if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile" 2>/dev/null)" 2>/dev/null; then
        stop_service "$s"
    fi
done
exit 0
