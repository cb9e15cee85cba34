"""Hostile servers on 127.0.0.1 for the hardening tier: each connection runs a handler on a raw
socket."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

Handler = Callable[[socket.socket, bytes], None]


def read_head(conn: socket.socket, limit: int = 65536) -> bytes:
    """The request head (up to the blank line), or what arrived before the peer stopped."""
    data = b""
    conn.settimeout(5)
    try:
        while b"\r\n\r\n" not in data and len(data) < limit:
            chunk = conn.recv(4096)
            if not chunk:
                break
            data += chunk
    except OSError:
        pass
    return data


@contextmanager
def serve(handler: Handler) -> Iterator[int]:
    """A listening socket on 127.0.0.1; each connection gets ``handler(conn, head)`` on a thread."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(32)
    stop = threading.Event()

    def one(conn: socket.socket) -> None:
        try:
            handler(conn, read_head(conn))
        except Exception:  # noqa: BLE001  a hostile server stops when its peer does
            pass
        finally:
            conn.close()

    def loop() -> None:
        sock.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
            except OSError:
                continue
            threading.Thread(target=one, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield sock.getsockname()[1]
    finally:
        stop.set()
        thread.join(2)
        sock.close()


def respond(conn: socket.socket, status: str, headers: dict[str, str], body: bytes) -> None:
    head = f"HTTP/1.1 {status}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    head += f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
    conn.sendall(head.encode() + body)


def json_error(status: str, body: dict) -> Handler:
    data = json.dumps(body).encode()
    return lambda conn, head: respond(conn, status, {"content-type": "application/json"}, data)


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str
    wall: float
    maxrss_mb: float


def gw_env(home: Path, **extra: str) -> dict[str, str]:
    """A fresh HOME and cache per run, nothing from the caller's environment but PATH."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), "NO_COLOR": "1",
           "GWDOCTOR_CACHE_DIR": str(home / ".cache-gw"), "LANG": "C.UTF-8"}
    if os.environ.get("PYTHONPATH"):
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    env.update(extra)
    return env


_RSS_LOCK = threading.Lock()


def run_gw(args: list[str], env: dict[str, str], cwd: Path, timeout: float = 120,
           stdin: int | None = subprocess.DEVNULL) -> Run:
    """Run the gwdoctor console entry as a child; peak RSS from wait4 (this child only)."""
    start = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-c", "from gwdoctor.engine.cli import entry; entry()",
                             *args], env=env, cwd=cwd, stdin=stdin,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out_chunks: list[bytes] = []
    err_chunks: list[bytes] = []
    stdout, stderr = proc.stdout, proc.stderr
    assert stdout is not None and stderr is not None    # both are PIPEs
    t_out = threading.Thread(target=lambda: out_chunks.append(stdout.read()), daemon=True)
    t_err = threading.Thread(target=lambda: err_chunks.append(stderr.read()), daemon=True)
    t_out.start()
    t_err.start()
    deadline = start + timeout
    status = None
    while status is None:
        pid, status_raw, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            status = status_raw
            break
        if time.monotonic() > deadline:
            proc.kill()
            pid, status_raw, usage = os.wait4(proc.pid, 0)
            status = status_raw
            break
        time.sleep(0.02)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.monotonic() - start
    t_out.join(5)
    t_err.join(5)
    return Run(code=proc.returncode, stdout=b"".join(out_chunks).decode("utf-8", "replace"),
               stderr=b"".join(err_chunks).decode("utf-8", "replace"), wall=wall,
               maxrss_mb=usage.ru_maxrss / 1024)


__all__ = ["Run", "gw_env", "json_error", "read_head", "respond", "run_gw", "serve"]
