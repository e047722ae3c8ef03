#!/bin/sh
# mediafcgi under spawn-fcgi, for hosts without systemd (a sysvinit script,
# a container's entry point). spawn-fcgi creates the unix socket, gives it
# to the web server's user, and starts mediafcgi as www-data with the
# socket as fd 0; mediafcgi then forks its workers on it. mediafcgi.conf
# has no listen.
#
#   spawn-fcgi.sh start|stop|reload|status
#
# Fill in (README.md here):
#   @SOCKET@     the socket the web server connects to: /run/mediafcgi.sock
#   @PIDFILE@    the master's pid: /run/mediafcgi.pid
#   @MEDIAFCGI@  the binary: /usr/sbin/mediafcgi
#   @CONFIG@     its config: /etc/mediafcgi/mediafcgi.conf
#
# The same as one line, in the foreground (-n) for a supervisor (runit,
# s6, a container):
#     spawn-fcgi -n -s @SOCKET@ -M 0660 -U www-data -G www-data \
#         -u www-data -g www-data -- @MEDIAFCGI@ --config @CONFIG@
#
# mediafcgi's log is its standard error: the terminal of whoever ran
# `start`, unless error_log in mediafcgi.conf names a file.
set -eu

SOCKET=@SOCKET@
PIDFILE=@PIDFILE@
MEDIAFCGI=@MEDIAFCGI@
CONFIG=@CONFIG@

running() {
    [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null
}

case "${1:-}" in
start)
    if running; then
        echo "mediafcgi is running (pid $(cat "$PIDFILE"))"
        exit 0
    fi
    "$MEDIAFCGI" --config "$CONFIG" --test-config >/dev/null
    # -M 0660 -U/-G: the socket is the web server's (www-data) to connect
    # to; -u/-g: mediafcgi runs as www-data (user = www-data in its config
    # then changes nothing).
    spawn-fcgi -s "$SOCKET" -M 0660 -U www-data -G www-data \
        -u www-data -g www-data -P "$PIDFILE" -- "$MEDIAFCGI" --config "$CONFIG"
    ;;
stop)
    # SIGTERM: the workers finish the request in hand (the master waits up
    # to 30 s for them), then everything exits.
    if running; then
        pid=$(cat "$PIDFILE")
        kill -TERM "$pid"
        i=0
        while kill -0 "$pid" 2>/dev/null && [ "$i" -lt 350 ]; do
            sleep 0.1
            i=$((i + 1))
        done
        if kill -0 "$pid" 2>/dev/null; then
            echo "mediafcgi (pid $pid) did not stop" >&2
            exit 1
        fi
    fi
    rm -f "$PIDFILE" "$SOCKET"
    ;;
reload)
    # SIGHUP: read the config again; new workers take over as the old ones
    # finish their request. A bad config is logged and the old one kept.
    "$MEDIAFCGI" --config "$CONFIG" --test-config >/dev/null
    running && kill -HUP "$(cat "$PIDFILE")"
    ;;
status)
    if running; then
        echo "mediafcgi is running (pid $(cat "$PIDFILE"))"
    else
        echo "mediafcgi is not running"
        exit 3
    fi
    ;;
*)
    echo "usage: $0 start|stop|reload|status" >&2
    exit 2
    ;;
esac
