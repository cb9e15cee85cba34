"""Child subreaper for the console script: nothing a command started outlives it, not even after
setsid.

Linux only (``prctl(PR_SET_CHILD_SUBREAPER)``); elsewhere both calls do nothing. Only the
console script uses it: in a process that also runs other children (a test runner with
its servers), killing every descendant would be wrong.
"""

from __future__ import annotations

import os
import signal
import sys

__all__ = ["become_subreaper", "kill_descendants"]

PR_SET_CHILD_SUBREAPER = 36  # <linux/prctl.h>


def become_subreaper() -> bool:
    """Make orphaned descendants (a helper's `setsid sleep 985 &` once its shell exits)
    our children instead of init's, so :func:`kill_descendants` can find them."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _parents() -> dict[int, int]:
    """pid -> ppid for every process /proc shows."""
    out: dict[int, int] = {}
    try:
        names = os.listdir("/proc")
    except OSError:
        return out
    for name in names:
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as fh:
                stat = fh.read(4096)
        except OSError:
            continue
        # "pid (comm) state ppid ...": comm may hold spaces and ')', so split after the last ')'.
        fields = stat.rpartition(b")")[2].split()
        if len(fields) > 1 and fields[1].isdigit():
            out[int(name)] = int(fields[1])
    return out


def kill_descendants() -> list[int]:
    """SIGKILL every descendant of this process, then reap the ones that are our children."""
    me = os.getpid()
    killed: list[int] = []
    for _ in range(5):  # again: one may have forked between the listing and its kill
        parents = _parents()
        children: dict[int, list[int]] = {}
        for pid, ppid in parents.items():
            children.setdefault(ppid, []).append(pid)
        found, todo = [], list(children.get(me, []))
        while todo:
            pid = todo.pop()
            found.append(pid)
            todo.extend(children.get(pid, []))
        if not found:
            break
        for pid in found:
            try:
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
            except OSError:
                pass
        for pid in found:
            if parents.get(pid) != me:
                continue  # its own parent (also killed) or init reaps it
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass
    return killed
