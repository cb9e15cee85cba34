"""The one bounded way probes read local files and run programs: regular files only, size,
depth and time caps.

Every file a probe reads and every program it runs goes through here
(tests/hardening/test_io.py fails on a direct ``open``/``read_text``/``subprocess``
anywhere else in ``probes/``):

* ``read_file(path, kind)``: opened non-blocking and checked *after* the open (``fstat``),
  so a FIFO, a device (``/dev/zero``), a socket or a directory is a ``problem``, never a
  read that hangs or fills memory; at most ``LIMITS[kind]`` bytes, a bigger file is a
  ``problem`` too (a 2 GB sparse ~/.claude.json once went past 4 GB of memory).
* ``parse_json(data)``: depth-capped; nesting that would exhaust Python's recursion is a
  ``problem``, not a ``RecursionError`` that kills the probe.
* ``run_process(argv, ...)``: own session, bounded time and output; afterwards the
  process group is killed and so is every process that still carries this run's
  marker in its environment, which reaches children that left the group with
  ``setsid`` (``setsid sleep 985 &`` in an apiKeyHelper outlived gwdoctor). A child that
  also clears its environment is left to the console script's subreaper
  (``gwdoctor.engine.reaper``).
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import stat
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

__all__ = ["LIMITS", "MAX_JSON_DEPTH", "FileRead", "ProcessResult", "file_type", "json_depth",
           "kill_marked", "parse_json", "read_file", "run_process"]

# Bytes per kind of file. Each is far above a real file of that kind and far below memory.
LIMITS = {
    "settings": 2 * 2**20,      # the client's own limit ("Settings file exceeds the 2MiB limit")
    "claude_json": 32 * 2**20,  # ~/.claude.json keeps per-project history: MBs on busy machines
    "credentials": 1 * 2**20,   # AWS config/credentials, SSO cache, ADC JSON
    "certificate": 16 * 2**20,  # a CA bundle; Debian's ca-certificates.crt is ~220 KB
    "key": 1 * 2**20,
    "gateway_config": 4 * 2**20,
    "text": 1 * 2**20,
}
MAX_JSON_DEPTH = 64  # a settings or credential file is 3-5 levels deep
MARKER = "GWDOCTOR_SPAWN"
_READ_STEP = 64 * 1024


@dataclass(frozen=True)
class FileRead:
    """``data`` when the file could be read whole within its cap, else ``problem``."""

    path: str
    data: bytes | None = None
    problem: str | None = None
    missing: bool = False

    @property
    def ok(self) -> bool:
        return self.data is not None


def _file_type(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "not a regular file"


def file_type(path: str | Path) -> str | None:
    """``"file"``, ``"dir"``, ``"other"`` (FIFO, device, socket), or None when there is nothing
    there or the path cannot name anything (too long, a NUL byte): never raises, unlike
    ``Path.exists()``, which raised ENAMETOOLONG from inside two probes."""
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError):
        return None
    return "file" if stat.S_ISREG(mode) else "dir" if stat.S_ISDIR(mode) else "other"


def read_file(path: str | Path, kind: str) -> FileRead:
    """The whole file, if it is a regular file of at most ``LIMITS[kind]`` bytes."""
    limit = LIMITS[kind]
    where = str(path)
    try:
        # O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer for ever.
        fd = os.open(where, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | getattr(os, "O_NOCTTY", 0))
    except FileNotFoundError:
        return FileRead(where, problem="no such file", missing=True)
    except OSError as exc:
        return FileRead(where, problem=f"unreadable: {exc.strerror or exc}")
    except ValueError:  # a NUL byte in the path (a settings value can hold "\u0000")
        return FileRead(where, problem="unreadable: the path holds a NUL byte")
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return FileRead(where, problem=f"not a regular file ({_file_type(st.st_mode)})")
        if st.st_size > limit:
            return FileRead(where, problem=f"larger than {_size(limit)}")
        chunks: list[bytes] = []
        size = 0
        while size <= limit:  # st_size can lie (procfs, a file growing while read)
            chunk = os.read(fd, min(_READ_STEP, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:
            return FileRead(where, problem=f"larger than {_size(limit)}")
        return FileRead(where, data=b"".join(chunks))
    except OSError as exc:
        return FileRead(where, problem=f"unreadable: {exc.strerror or exc}")
    finally:
        os.close(fd)


def _size(limit: int) -> str:
    return f"{limit // 2**20} MiB" if limit >= 2**20 else f"{limit // 1024} KiB"


def json_depth(value: Any) -> int:
    """How deeply ``value`` nests (a scalar is 1), without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        deepest = max(deepest, depth)
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return deepest


def parse_json(text: str | bytes, *, max_depth: int = MAX_JSON_DEPTH,
               parse_constant: Callable[[str], Any] | None = None) -> tuple[Any, str | None]:
    """``(value, None)``, or ``(None, problem)`` for invalid JSON or nesting over ``max_depth``."""
    try:
        value = (json.loads(text, parse_constant=parse_constant) if parse_constant
                 else json.loads(text))
    except RecursionError:
        return None, f"nested more than {max_depth} levels deep"
    except json.JSONDecodeError as exc:
        return None, f"{exc.msg} (line {exc.lineno}, column {exc.colno})"
    except (ValueError, TypeError) as exc:
        return None, str(exc)[:200]
    if json_depth(value) > max_depth:
        return None, f"nested more than {max_depth} levels deep"
    return value, None


@dataclass(frozen=True)
class ProcessResult:
    stdout: bytes = b""
    stderr: bytes = b""
    exit_code: int | None = None
    timed_out: bool = False
    truncated: bool = False  # output past ``cap`` was drained and dropped
    error: str | None = None  # could not start


def _collect(proc: subprocess.Popen[bytes], deadline: float,
             cap: int) -> tuple[bytes, bytes, bool, bool]:
    bufs = {"out": bytearray(), "err": bytearray()}
    sel = selectors.DefaultSelector()
    assert proc.stdout is not None and proc.stderr is not None
    sel.register(proc.stdout, selectors.EVENT_READ, "out")
    sel.register(proc.stderr, selectors.EVENT_READ, "err")
    timed_out = truncated = False
    try:
        while sel.get_map():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                timed_out = True
                break
            for key, _ in sel.select(remaining):
                chunk = os.read(key.fd, 65536)
                if not chunk:
                    sel.unregister(key.fileobj)
                    continue
                buf = bufs[key.data]
                room = max(0, cap - len(buf))
                truncated = truncated or len(chunk) > room
                buf.extend(chunk[:room])
    finally:
        sel.close()
    return bytes(bufs["out"]), bytes(bufs["err"]), timed_out, truncated


def _exited(pid: int, deadline: float) -> bool:
    """Wait for the process to exit *without reaping it*, so its pid (the group id) stays ours."""
    while True:
        try:
            if os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None:
                return True
        except ChildProcessError:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.01)


def kill_marked(marker: str) -> list[int]:
    """SIGKILL every process whose environment holds ``GWDOCTOR_SPAWN=<marker>``; their pids."""
    needle = f"{MARKER}={marker}".encode()
    killed: list[int] = []
    try:
        pids = [int(name) for name in os.listdir("/proc") if name.isdigit()]
    except OSError:
        return killed  # no procfs (macOS): the process group kill is all there is
    for pid in pids:
        if pid == os.getpid():
            continue
        environ = read_file(f"/proc/{pid}/environ", "text")
        if environ.ok and needle in (environ.data or b"").split(b"\0"):
            try:
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
            except OSError:
                pass
    for pid in killed:  # reap the ones that are our own children; init takes the rest
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass
    return killed


def run_process(argv: list[str], *, env: Mapping[str, str], cwd: str | Path | None = None,
                timeout: float, cap: int = 64 * 1024,
                on_start: Callable[[int], None] | None = None,
                on_end: Callable[[int], None] | None = None) -> ProcessResult:
    """Run ``argv`` (stdin /dev/null) for at most ``timeout`` seconds, keeping ``cap`` bytes of
    each stream; then kill it and everything it started (see module doc)."""
    start = time.monotonic()
    marker = uuid.uuid4().hex
    try:
        proc = subprocess.Popen(argv, env={**env, MARKER: marker},
                                cwd=str(cwd) if cwd is not None else None,
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, start_new_session=True)
    except (OSError, ValueError) as exc:
        return ProcessResult(error=str(getattr(exc, "strerror", None) or exc))
    if on_start:
        on_start(proc.pid)
    try:
        out, err, timed_out, truncated = _collect(proc, start + timeout, cap)
        if not timed_out and not _exited(proc.pid, start + timeout):
            timed_out = True
    finally:
        # Always: a background child (`(sleep 600) &`) may hold the pipes or linger after the
        # program is gone. Its own session, so the group is only its own; not reaped yet,
        # so the pid (the group id) cannot have been reused.
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except OSError:
            pass
        proc.wait()
        if on_end:
            on_end(proc.pid)
        for stream in (proc.stdout, proc.stderr):
            if stream:
                stream.close()
        # Again until none is left: one killed between the listing and the kill may have forked.
        for _ in range(5):
            if not kill_marked(marker):
                break
    return ProcessResult(stdout=out, stderr=err, exit_code=None if timed_out else proc.returncode,
                         timed_out=timed_out, truncated=truncated)
