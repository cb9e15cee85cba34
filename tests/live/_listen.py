"""Wait for a server process of the lab (squid, nginx) to listen on its loopback ports."""

from __future__ import annotations

import socket
import subprocess
import time
from typing import Protocol

__all__ = ["wait_listening"]


class _Part(Protocol):
    def log_tail(self, name: str = ..., lines: int = ...) -> str: ...

    def stop(self) -> None: ...


def wait_listening(part: _Part, proc: subprocess.Popen[bytes], ports: set[int], what: str,
                   within: float = 10.0) -> None:
    """Return once every port accepts a connection. If ``proc`` exits first, or ``within``
    seconds pass, stop ``part`` and raise with the tail of its stderr.log and its own log."""
    pending = set(ports)
    deadline = time.monotonic() + within
    while pending and time.monotonic() < deadline:
        if proc.poll() is not None:
            err, tail = part.log_tail("stderr.log"), part.log_tail()
            part.stop()
            raise RuntimeError(f"{what} exited with {proc.returncode}:\n{err}\n{tail}")
        for port in list(pending):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                pending.discard(port)
            except OSError:
                pass
        if pending:
            time.sleep(0.05)
    if pending:
        tail = part.log_tail()
        part.stop()
        raise RuntimeError(f"{what} did not listen on {sorted(pending)} within {within:g} s:\n"
                           f"{tail}")
