#!/usr/bin/python3
"""
serve.py - mediafcgi behind nginx (or lighttpd) on loopback, in the
foreground until Ctrl-C or SIGTERM; then everything it started is stopped.
The configs come from tests/support/webservers.py, the same module the
integration tests use: run it with tests/ on the path, as run.sh and
bench.sh do (PYTHONPATH=$ROOT/tests).

  scripts/serve.py --port 8080 --media build/run/media --docroot build/run/www
      `make run`: the docroot at /, thumbnails under /media/
  scripts/serve.py --port 0 --media DIR --mount / --state FILE --rss FILE
      `make bench`: a free port, mediafcgi answering every path; the chosen
      URL and PIDs are written to FILE (JSON) once it answers, and the
      workers' peak memory to the --rss file when it stops.

Exit status: 0 after a clean stop, 1 if a server failed or died, 2 if the
port is taken.
"""

import argparse
import json
import os
import signal
import sys
import time

from support import procs, webservers


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0].strip(),
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--front", choices=webservers.FRONTS, default="nginx")
    ap.add_argument("--launch", choices=webservers.LAUNCHES, default="listen")
    ap.add_argument("--host", default=webservers.HOST)
    ap.add_argument("--port", type=int, default=8080, help="0: a free port")
    ap.add_argument("--media", required=True, help="media root")
    ap.add_argument("--docroot", help="static files at / (default: a bare index.html)")
    ap.add_argument("--mount", default="/media", help='URL prefix of the media ("/": all)')
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE",
                    help="extra mediafcgi config, e.g. --set media.quality=85")
    ap.add_argument("--state", help="write {url, port, pids} as JSON here once up")
    ap.add_argument("--rss", help="sample the workers' memory; write the peaks here at exit")
    ap.add_argument("--binary", help="mediafcgi binary (default: $MEDIAFCGI_BIN or build/mediafcgi)")
    return ap.parse_args()


def config_extra(sets):
    extra = {}
    for s in sets:
        key, sep, value = s.partition("=")
        sec, dot, name = key.partition(".")
        if not sep or not dot or not sec or not name:
            sys.exit("serve.py: --set wants SECTION.KEY=VALUE, not %r" % s)
        extra.setdefault(sec, {})[name] = value
    return extra


class Stop(Exception):
    pass


def on_signal(signum, frame):
    raise Stop(signum)


class RssSampler:
    """Largest VmRSS seen in any worker, and the largest VmHWM (peak RSS as
    the kernel counted it, so peaks between samples are not missed)."""

    def __init__(self):
        self.max_rss = self.max_hwm = 0
        self.samples = 0
        self.pids = set()

    def sample(self, stack):
        for pid in stack.worker_pids():
            rss = procs.status_kb(pid, "VmRSS")
            hwm = procs.status_kb(pid, "VmHWM")
            if rss is None:
                continue
            self.pids.add(pid)
            self.max_rss = max(self.max_rss, rss)
            self.max_hwm = max(self.max_hwm, hwm or 0)
        self.samples += 1

    def report(self):
        return ("worker memory: max VmRSS %.1f MiB, max VmHWM (peak) %.1f MiB "
                "over %d workers, %d samples every 0.2 s"
                % (self.max_rss / 1024, self.max_hwm / 1024, len(self.pids), self.samples))


def main():
    a = parse_args()
    if a.port and not webservers.port_is_free(a.port, a.host):
        print("serve.py: port %s:%d is already in use; stop what holds it "
              "(or choose another port)" % (a.host, a.port), file=sys.stderr)
        return 2
    if not os.path.isdir(a.media):
        print("serve.py: no media directory %s" % a.media, file=sys.stderr)
        return 1

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    try:
        stack = webservers.Stack(front=a.front, launch=a.launch, host=a.host, port=a.port,
                                 media_root=a.media, docroot=a.docroot, mount=a.mount,
                                 workers=a.workers, config_extra=config_extra(a.set),
                                 binary=a.binary, deadline=20)
    except ValueError as e:
        print("serve.py: %s" % e, file=sys.stderr)
        return 1
    sampler = RssSampler() if a.rss else None
    rc = 0
    try:
        try:
            stack.start()
        except webservers.StackError as e:
            print("serve.py: %s" % e, file=sys.stderr)
            return 1
        mount = stack.mount or ""
        print("mediafcgi (%d workers) behind %s: %s/" % (a.workers, a.front, stack.base))
        if mount:
            print("  media %s under %s%s/   e.g. %s%s/<file>?size=300x200"
                  % (a.media, stack.base, mount, stack.base, mount))
        print("  configs and logs: %s   (Ctrl-C stops)" % stack.dir)
        sys.stdout.flush()
        if a.state:
            tmp = a.state + ".tmp"
            with open(tmp, "w") as f:
                json.dump({"url": stack.base, "port": stack.port, "pid": os.getpid(),
                           "mediafcgi_pid": stack.mediafcgi_pid(),
                           "front_pid": stack.procs[a.front].pid, "dir": stack.dir}, f)
            os.replace(tmp, a.state)
        while True:
            for name, p in list(stack.procs.items()):
                if p.poll() is not None:
                    print("serve.py: %s exited with %s\n%s" % (name, p.returncode, stack.logs()),
                          file=sys.stderr)
                    return 1
            if sampler:
                sampler.sample(stack)
            time.sleep(0.2)
    except Stop:
        pass
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        left = stack.stop()
        if left:
            print("serve.py: had to kill processes left behind: %s" % left, file=sys.stderr)
            rc = 1
        if sampler:
            with open(a.rss, "w") as f:
                f.write(sampler.report() + "\n")
        if a.state:
            try:
                os.unlink(a.state)
            except OSError:
                pass
    print("stopped.")
    return rc


if __name__ == "__main__":
    sys.exit(main())
