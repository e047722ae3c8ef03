#!/usr/bin/python3
"""
Live at scale (issue 15's benchmark): VIEWERS viewers (default 1000) of one
source (320x180, 15 fps, a lavfi test pattern, so nothing but mediafcgi
runs the source) behind nginx, mediafcgi with its default config (plus the
source and a status path). The viewers are build/viewers: one C process,
one epoll loop, HTTP/1.0, part headers counted.

For each run: how many viewers got 200 / 503 / nothing, their frame rates
(min, p10, median) against the source's own rate (the reader's frame
counter over the same window), the PSS of every mediafcgi process (master,
workers, reader, fan-out) at the end of the window, and CPU (utime + stime
from /proc) of mediafcgi and of nginx over the window, per viewer-second.
Medians of RUNS runs (default 3).

    PYTHONPATH=tests MEDIAFCGI_BIN=build/mediafcgi scripts/bench_live_scale.py \
        [--viewers N] [--runs N] [--window S] [--client build/viewers]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

from support import webservers

HZ = os.sysconf("SC_CLK_TCK")
FPS = 15


def children(pid):
    out = []
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            kids = [int(x) for x in f.read().split()]
    except OSError:
        return out
    for k in kids:
        out.append(k)
        out.extend(children(k))
    return out


def cpu_s(pids):
    t = 0
    for p in pids:
        try:
            with open("/proc/%d/stat" % p) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            t += int(fields[11]) + int(fields[12])
        except OSError:
            pass
    return t / HZ


def pss_kib(pids):
    t = 0
    for p in pids:
        try:
            with open("/proc/%d/smaps_rollup" % p) as f:
                for ln in f:
                    if ln.startswith("Pss:"):
                        t += int(ln.split()[1])
        except OSError:
            pass
    return t


def status(s):
    return s.get("/status").json()


def one_run(args, binary):
    root = tempfile.mkdtemp(prefix="mediafcgi-bench-scale-")
    os.chmod(root, 0o755)
    cfg = {"server": {"status_path": "/status"},
           "source cam1": {"input": "testsrc2=size=320x180:rate=%d" % FPS, "format": "lavfi",
                           "size": "320x180", "always_on": "yes"}}
    s = webservers.Stack(front="nginx", media_root=root, mount="/media", workers=2,
                         config_extra=cfg, fcgi_paths=["/live/", "/status"],
                         worker_connections=4 * args.viewers + 256, binary=binary)
    s.start()
    try:
        master = s.procs["mediafcgi"].pid
        nginx = s.procs[[k for k in s.procs if k != "mediafcgi"][0]].pid
        time.sleep(1.0)
        client = subprocess.Popen([args.client, "127.0.0.1", str(s.port), "/live/cam1",
                                   str(args.viewers), str(args.warmup), str(args.window)],
                                  stdout=subprocess.PIPE, text=True)
        time.sleep(args.warmup)
        mp = [master] + children(master)
        npids = [nginx] + children(nginx)
        c_m0, c_n0 = cpu_s(mp), cpu_s(npids)
        f0, t0 = [x for x in status(s)["sources"] if x["name"] == "cam1"][0]["frames"], \
            time.monotonic()
        time.sleep(args.window * 0.8)
        mp = [master] + children(master)
        pss = pss_kib(mp)
        st = status(s)
        out, _ = client.communicate(timeout=args.window + 60)
        c_m1, c_n1 = cpu_s(mp), cpu_s([nginx] + children(nginx))
        f1, t1 = [x for x in status(s)["sources"] if x["name"] == "cam1"][0]["frames"], \
            time.monotonic()
        r = json.loads(out.strip().splitlines()[-1])
        src_fps = (f1 - f0) / (t1 - t0)
        vsec = r["ok"] * (t1 - t0)
        r.update({
            "source_fps": src_fps,
            "pss_mib": pss / 1024.0,
            "processes": len(mp),
            "viewers_status": st["viewers"],
            "workers": st["workers"]["total"],
            "cpu_mediafcgi_ms_per_viewer_s": 1000.0 * (c_m1 - c_m0) / vsec if vsec else None,
            "cpu_nginx_ms_per_viewer_s": 1000.0 * (c_n1 - c_n0) / vsec if vsec else None,
        })
        return r
    finally:
        s.stop()
        subprocess.run(["rm", "-rf", root], check=False)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--viewers", type=int, default=int(os.environ.get("VIEWERS_SCALE", 1000)))
    ap.add_argument("--runs", type=int, default=int(os.environ.get("SCALE_RUNS", 3)))
    ap.add_argument("--warmup", type=float, default=8.0)
    ap.add_argument("--window", type=float, default=15.0)
    ap.add_argument("--client", default=None)
    args = ap.parse_args()
    binary = webservers.mediafcgi_bin()
    if args.client is None:
        args.client = os.path.join(os.path.dirname(binary), "viewers")
    runs = []
    for i in range(args.runs):
        r = one_run(args, binary)
        runs.append(r)
        print("run %d: %s" % (i + 1, json.dumps(r)), flush=True)

    def med(k):
        vals = [r[k] for r in runs if r.get(k) is not None]
        return statistics.median(vals) if vals else float("nan")
    ok = med("ok")
    print("\nlive at scale: %d viewers of one 320x180 %d fps source behind nginx "
          "(medians of %d runs)" % (args.viewers, FPS, len(runs)))
    print("  served %d, 503 %d, other %d, failed %d" % (ok, med("503"), med("other"),
                                                       med("failed")))
    print("  viewer fps: min %.2f, p10 %.2f, median %.2f; source %.2f fps "
          "(min/source %.0f%%)" % (med("fps_min"), med("fps_p10"), med("fps_median"),
                                   med("source_fps"),
                                   100 * med("fps_min") / med("source_fps")))
    print("  mediafcgi PSS %.1f MiB (%d processes)" % (med("pss_mib"), med("processes")))
    print("  CPU per viewer-second: mediafcgi %.3f ms, nginx %.3f ms, total %.3f ms" % (
        med("cpu_mediafcgi_ms_per_viewer_s"), med("cpu_nginx_ms_per_viewer_s"),
        med("cpu_mediafcgi_ms_per_viewer_s") + med("cpu_nginx_ms_per_viewer_s")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
