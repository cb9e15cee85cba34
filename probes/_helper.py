"""Run an apiKeyHelper the way the client does (/bin/sh -c, bounded time and output) and
describe the result."""

from __future__ import annotations

import atexit
import os
import re
import signal
import threading
import time
from pathlib import Path
from typing import Any, Mapping

from gwdoctor.engine import Vault, describe_secret

from ._io import run_process

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


def _untrack(pid: int) -> None:
    with _LIVE_LOCK:
        _LIVE.discard(pid)


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


# A terminal escape sequence (CSI/OSC/other ESC forms), then any remaining control or format
# character.
_ESCAPE = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-_]?)"
                     r"|\x9b[0-?]*[ -/]*[@-~]")
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
    # Bounded time and output, and nothing it started survives it (_io.run_process).
    done = run_process(["/bin/sh", "-c", command], env=env, cwd=cwd, timeout=timeout, cap=CAP,
                       on_start=_track, on_end=_untrack)
    if done.error is not None:
        result.update(ran=False, stderr_excerpt=f"could not start /bin/sh: {done.error}")
        result["duration_ms"] = int((time.monotonic() - start) * 1000)
        return result
    out, err, timed_out = done.stdout, done.stderr, done.timed_out
    stdout = out.decode("utf-8", "replace")
    value = stdout.strip()
    shape = output_shape(stdout)
    result.update(exit_code=done.exit_code, timed_out=timed_out,
                  output_shape=shape, output=describe_secret(value or None))
    stderr = _scrub(err.decode("utf-8", "replace"), stdout).strip()
    result["stderr_excerpt"] = stderr[:300] or None
    # A banner line fails the helper on 2.1.197 and 2.1.332 (captured: tests/capture/
    # test_helper.py); before, the docs say the whole trimmed output was sent as the key, which
    # no gateway accepts either.
    result["usable"] = not timed_out and done.exit_code == 0 and shape == "token"
    vault.put("auth.helper_output", value)
    result["duration_ms"] = int((time.monotonic() - start) * 1000)
    return result
