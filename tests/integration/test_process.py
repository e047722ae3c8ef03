"""The command line and the ways a web server can run mediafcgi: its own
socket (--listen), a socket inherited as fd 0 from spawn-fcgi or from
lighttpd's bin-path, and stopping cleanly on SIGTERM."""

import os
import subprocess

import pytest

from support import procs, webservers
from support.imaging import MOUNT, decode


def run(*args, timeout=20):
    return subprocess.run([webservers.mediafcgi_bin(), *args], capture_output=True,
                          text=True, timeout=timeout, stdin=subprocess.DEVNULL)


def test_version_and_help():
    v = run("--version")
    assert v.returncode == 0 and v.stdout.strip(), v
    h = run("--help")
    assert h.returncode == 0, h
    for flag in ("--config", "--listen", "--root", "--workers", "--foreground", "--test-config"):
        assert flag in h.stdout + h.stderr, "--help does not mention %s" % flag


def test_test_config_ok(tmp_path, media_root):
    conf = tmp_path / "ok.conf"
    conf.write_text("[server]\nworkers = 2\nallow_root = yes\n\n[media]\nroot = %s\nmount = /media\n"
                    "quality = 85\n" % media_root)
    r = run("--config", str(conf), "--test-config")
    assert r.returncode == 0, r
    assert "config ok" in r.stdout, r


@pytest.mark.parametrize("text,line", [
    ("[server]\nworkers = 2\nbogus_key = 1\n[media]\nroot = ROOT\n", 3),
    ("[server]\nworkers = many\n[media]\nroot = ROOT\n", 2),
    ("[media]\nroot = ROOT\nquality = 0\n", 3),
    ("[media]\nroot = ROOT\n[nosuchsection]\nx = 1\n", 4),
])
def test_test_config_bad_names_file_and_line(tmp_path, media_root, text, line):
    conf = tmp_path / "bad.conf"
    conf.write_text(text.replace("ROOT", media_root))
    r = run("--config", str(conf), "--test-config")
    assert r.returncode == 1, r
    assert "%s:%d:" % (conf, line) in r.stderr, \
        "stderr %r does not start with FILE:LINE: for line %d" % (r.stderr, line)


def test_test_config_missing_root(tmp_path):
    conf = tmp_path / "noroot.conf"
    conf.write_text("[server]\nworkers = 1\n")
    r = run("--config", str(conf), "--test-config")
    assert r.returncode == 1 and str(conf) in r.stderr, r


@pytest.mark.parametrize("front,launch", [
    ("nginx", "spawn-fcgi"),
    ("lighttpd", "spawn-fcgi"),
    ("lighttpd", "bin-path"),
])
def test_inherited_socket(media_root, front, launch):
    """Without --listen mediafcgi serves the socket it got as fd 0."""
    with webservers.Stack(front=front, launch=launch, media_root=media_root,
                          mount=MOUNT, workers=2) as s:
        for _ in range(4):
            r = s.get(MOUNT + "/landscape.jpg?size=150x100")
            assert decode(r).size == (150, 100), "%r\n%s" % (r, s.logs())
        assert len(s.worker_pids()) >= 2, "expected 2 workers under %s" % s.mediafcgi_pid()
        left = s.stop()
    assert not left, "left behind after SIGTERM: %s" % left
    assert not s.sanitizer_reports(), "\n".join(s.sanitizer_reports())


def test_sigterm_stops_master_and_workers(media_root):
    s = webservers.Stack(front="nginx", media_root=media_root, mount=MOUNT, workers=3)
    with s:
        decode(s.get(MOUNT + "/landscape.jpg?size=60x40"))
        master = s.mediafcgi_pid()
        workers = s.worker_pids()
        assert len(workers) == 3, workers
        p = s.procs["mediafcgi"]
        p.terminate()
        rc = p.wait(15)
        assert rc == 0, "mediafcgi exited %s on SIGTERM" % rc
        for w in workers:
            assert not os.path.exists("/proc/%d" % w) or procs.is_gone(w), \
                "worker %d of %d still running" % (w, master)


def test_worker_respawned_after_crash(media_root):
    """DESIGN: the master respawns a worker that dies."""
    import signal
    import time
    with webservers.Stack(front="nginx", media_root=media_root, mount=MOUNT, workers=2) as s:
        before = s.worker_pids()
        assert len(before) == 2
        os.kill(before[0], signal.SIGKILL)
        end = time.monotonic() + 10
        while time.monotonic() < end:
            now = s.worker_pids()
            if len(now) == 2 and before[0] not in now:
                break
            time.sleep(0.1)
        assert len(s.worker_pids()) == 2 and before[0] not in s.worker_pids()
        assert decode(s.get(MOUNT + "/landscape.jpg?size=60x40")).size == (60, 40)


