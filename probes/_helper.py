"""Run an apiKeyHelper the way the client does (/bin/sh -c, bounded time and output) and describe the result."""

from __future__ import annotations

import atexit
import os
import re
import selectors
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Any, Mapping

from gwdoctor.engine import Vault, describe_secret

__all__ = ["output_shape", "run_helper"]

# The client accepts "a single token of printable ASCII up to 16,384 characters".
MAX_TOKEN = 16384
# Read at most this much of each stream; the rest is drained and dropped.
CAP = 64 * 1024


def output_shape(text: str) -> str:
    value = text.strip()
    if not value:
        return "empty"
    if "\n" in value or "\r" in value:
        return "multiline"
    if any(not (0x20 <= ord(c) < 0x7F) for c in value):
        return "nonprintable"
    if len(value) > MAX_TOKEN:
        return "too_long"
    return "token"


def _collect(proc: subprocess.Popen[bytes], deadline: float) -> tuple[bytes, bytes, bool]:
    bufs = {"out": bytearray(), "err": bytearray()}
    sel = selectors.DefaultSelector()
    assert proc.stdout is not None and proc.stderr is not None
    sel.register(proc.stdout, selectors.EVENT_READ, "out")
    sel.register(proc.stderr, selectors.EVENT_READ, "err")
    timed_out = False
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
                if len(buf) < CAP:
                    buf.extend(chunk[: CAP - len(buf)])
    finally:
        sel.close()
    return bytes(bufs["out"]), bytes(bufs["err"]), timed_out


def _exited(pid: int, deadline: float) -> bool:
    """Wait for the shell to exit *without reaping it*, so its pid (the group id) stays ours."""
    while True:
        try:
            if os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None:
                return True
        except ChildProcessError:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.01)


def _kill(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # the helper's own session: its children go too
    except OSError:
        pass
    proc.wait()
    with _LIVE_LOCK:
        _LIVE.discard(proc.pid)


# Helpers still running when gwdoctor exits (Ctrl-C mid-scan: the probe thread's `finally`
# never runs, and the helper sits in its own session, out of reach of the terminal's SIGINT).
_LIVE: set[int] = set()
_LIVE_LOCK = threading.Lock()


def _track(pid: int) -> None:
    with _LIVE_LOCK:
        if not getattr(_track, "registered", False):
            atexit.register(_kill_leftovers)  # the console script runs atexit before os._exit
            _track.registered = True  # type: ignore[attr-defined]
        _LIVE.add(pid)


def _kill_leftovers() -> None:
    with _LIVE_LOCK:
        leftovers = list(_LIVE)
        _LIVE.clear()
    for pid in leftovers:
        try:
            os.killpg(pid, signal.SIGKILL)
        except OSError:
            pass


# A terminal escape sequence (CSI/OSC/other ESC forms), then any remaining control or format character.
_ESCAPE = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-_]?)|\x9b[0-?]*[ -/]*[@-~]")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
# `refresh_token=...`, `Password: ...`, `Authorization: Bearer ...`: keep the name, drop the value.
_SECRET_PAIR = re.compile(
    r"(?i)([\w.-]*(?:token|secret|pass|key|auth|cookie|session)[\w.-]*[\"']?\s*[=:]\s*)"
    r"(?:(?:bearer|basic|token)\s+)?(\"[^\"]*\"|'[^']*'|[^\s,;&]+)")
# Anything long enough to be a token, whatever it is.
_LONG_RUN = re.compile(r"[A-Za-z0-9_\-+/=.]{16,}")
# `sk-`, `sk-ant-api03-`, `ghp_`-style prefixes, removed one at a time to find the bare value.
_PREFIX = re.compile(r"^[A-Za-z][A-Za-z0-9]{0,9}[-_]")


def _variants(secret: str) -> set[str]:
    out: set[str] = set()
    for piece in {secret.strip(), *secret.split()}:
        while len(piece) >= 4:
            out.add(piece)
            shorter = _PREFIX.sub("", piece, count=1)
            if shorter == piece:
                break
            piece = shorter
    return out


def _scrub(text: str, secret: str) -> str:
    """A stderr excerpt safe to report: no helper output, no secret-looking value, no escapes."""
    text = _CONTROL.sub("", _ESCAPE.sub("", text))
    for piece in sorted(_variants(secret), key=len, reverse=True):
        text = text.replace(piece, "***")
    text = _SECRET_PAIR.sub(lambda m: m.group(1) + "***", text)
    return _LONG_RUN.sub("***", text)


def run_helper(command: str, env: Mapping[str, str], cwd: Path, timeout: float,
               vault: Vault, strict: bool) -> dict[str, Any]:
    """Facts for ``config.api_key_helper``; the output itself goes to the vault only."""
    start = time.monotonic()
    result: dict[str, Any] = {"ran": True, "exit_code": None, "timed_out": False,
                              "output_shape": "empty", "output": {"present": False},
                              "stderr_excerpt": None, "strict": strict, "usable": False}
    try:
        proc = subprocess.Popen(["/bin/sh", "-c", command], env=dict(env), cwd=str(cwd),
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, start_new_session=True)
        _track(proc.pid)
    except OSError as exc:
        result.update(ran=False, stderr_excerpt=f"could not start /bin/sh: {exc.strerror or exc}")
        result["duration_ms"] = int((time.monotonic() - start) * 1000)
        return result
    try:
        out, err, timed_out = _collect(proc, start + timeout)
        if not timed_out and not _exited(proc.pid, start + timeout):
            timed_out = True
    finally:
        # Always: a background child (`(sleep 600) &`) may still hold the pipes or linger after
        # the shell is gone. The helper runs in its own session, so its group is only its own.
        # The shell is not reaped yet, so its pid (the group id) cannot have been reused.
        _kill(proc)
        for stream in (proc.stdout, proc.stderr):
            if stream:
                stream.close()
    stdout = out.decode("utf-8", "replace")
    value = stdout.strip()
    shape = output_shape(stdout)
    result.update(exit_code=None if timed_out else proc.returncode, timed_out=timed_out,
                  output_shape=shape, output=describe_secret(value or None))
    stderr = _scrub(err.decode("utf-8", "replace"), stdout).strip()
    result["stderr_excerpt"] = stderr[:300] or None
    # Since v2.1.227 (strict) a banner line fails the helper outright; before, the whole
    # trimmed output was sent as the key, which no gateway accepts either.
    result["usable"] = not timed_out and proc.returncode == 0 and shape == "token"
    vault.put("auth.helper_output", value)
    result["duration_ms"] = int((time.monotonic() - start) * 1000)
    return result
