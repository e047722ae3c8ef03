"""
procs - what /proc says about a process: its children, its process group,
its state, its open descriptors and its memory (proc(5)). Every reader
answers for a process that is gone (None, [] or True as the name says)
instead of raising, since the processes under test come and go.

Standard library only: scripts/serve.py reads the workers' memory with it.
"""

import os


def _stat_fields(pid):
    """The fields of /proc/PID/stat after "(comm)", from the state on
    (comm may hold spaces and parens), or None when pid is gone."""
    try:
        with open("/proc/%s/stat" % pid, "rb") as f:
            stat = f.read()
    except OSError:
        return None
    return stat[stat.rfind(b")") + 2:].split()


def pids():
    """Every PID in /proc now."""
    return [int(d) for d in os.listdir("/proc") if d.isdigit()]


def children(pid):
    """PIDs whose parent is pid."""
    out = []
    for p in pids():
        fields = _stat_fields(p)
        if fields and len(fields) > 1 and int(fields[1]) == pid:
            out.append(p)
    return out


def comm(pid):
    """The process's name (prctl PR_SET_NAME), or None once it is gone."""
    try:
        with open("/proc/%d/comm" % pid) as f:
            return f.read().strip()
    except OSError:
        return None


def workers(master):
    """mediafcgi's workers: the master's children that kept its name (a
    live reader is "mediafcgi-live", the viewers' process
    "mediafcgi-fanout", truncated by the kernel to 15 characters)."""
    name = comm(master)
    return [p for p in children(master) if comm(p) == name]


def group(pgid, zombies=False):
    """PIDs in process group pgid; zombies only when asked for."""
    out = []
    for p in pids():
        fields = _stat_fields(p)
        if fields and len(fields) > 2 and int(fields[2]) == pgid and \
                (zombies or fields[0] != b"Z"):
            out.append(p)
    return out


def state(pid):
    """The one-letter state (R, S, D, Z, ...), or None when pid is gone."""
    fields = _stat_fields(pid)
    return fields[0].decode() if fields else None


def is_gone(pid):
    """Exited (or a zombie nobody reaped yet)."""
    return state(pid) in (None, "Z")


def zombies(pid):
    """The children of pid that are zombies."""
    return [c for c in children(pid) if state(c) == "Z"]


def alive(pid):
    """Whether pid exists (a zombie included): kill(pid, 0)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def group_alive(pgid):
    """Whether any process is left in process group pgid: killpg(pgid, 0)."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def pgid(pid):
    """The process group of pid, or None when pid is gone."""
    try:
        return os.getpgid(pid)
    except OSError:
        return None


def cmdline(pid):
    """/proc/PID/cmdline (NUL-separated), b"" when pid is gone."""
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return f.read()
    except OSError:
        return b""


def fds(pid):
    """The names of pid's open descriptors (/proc/PID/fd); raises when pid
    is gone, since a count of a vanished process would compare as 0."""
    return os.listdir("/proc/%d/fd" % pid)


def fd_count(pid):
    return len(fds(pid))


def status_kb(pid, key):
    """A kB value (VmRSS, VmHWM, ...) from /proc/PID/status, or None."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def uids(pid):
    """(real, effective, saved, fs) uid and gid of a process."""
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(("Uid:", "Gid:")):
                out[line[:3]] = tuple(int(x) for x in line.split()[1:5])
    return out["Uid"], out["Gid"]


def reset_hwm(pids_):
    """Sets each process's peak RSS (VmHWM) back to its current RSS, so
    that the next reading is what came after alone (/proc/PID/clear_refs,
    "5")."""
    for pid in pids_:
        try:
            with open("/proc/%d/clear_refs" % pid, "w") as f:
                f.write("5")
        except OSError:
            pass


def maps_mention(pid, needle):
    """Whether /proc/PID/maps names needle (a library), False when gone."""
    try:
        with open("/proc/%d/maps" % pid) as f:
            return needle in f.read()
    except OSError:
        return False
