"""A real nginx (Debian's, from .ci/install) on loopback as a reverse proxy in front of a lab
gateway, with a request-body limit: the front that answers the client's large requests with its
413 page (Wei-Shaw/claude-relay-service#630) while small ones pass.

Everything it writes (config, pid, logs, temp files) is under its own temporary prefix; it runs in
the foreground as a single process (``master_process off``), so it never changes user and needs
no root and no /var paths.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from live._listen import wait_listening

__all__ = ["NGINX", "Nginx", "start_nginx"]

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _config(d: Path, port: int, backend_port: int, body_limit: str) -> str:
    temp = "\n".join(
        f"    {kind}_temp_path {d}/{kind}_temp;"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    # proxy_buffering off: the Messages stream is SSE, relayed as it comes (what a relay's
    # front does; buffering would hold every event until the end).
    return f"""daemon off;
master_process off;
pid {d}/nginx.pid;
error_log {d}/error.log info;
events {{ worker_connections 128; }}
http {{
    access_log {d}/access.log;
{temp}
    server {{
        listen 127.0.0.1:{port};
        client_max_body_size {body_limit};
        location / {{
            proxy_pass http://127.0.0.1:{backend_port};
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_buffering off;
            proxy_read_timeout 120s;
        }}
    }}
}}
"""


@dataclass
class Nginx:
    proc: subprocess.Popen[bytes]
    dir: Path
    port: int
    body_limit: str

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_tail(self, name: str = "error.log", lines: int = 20) -> str:
        path = self.dir / name
        return (
            "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
            if path.exists()
            else ""
        )

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        shutil.rmtree(self.dir, ignore_errors=True)


def start_nginx(backend_port: int, body_limit: str = "16k") -> Nginx:
    """nginx on a free loopback port, proxying everything to ``127.0.0.1:backend_port`` and
    refusing request bodies over ``body_limit`` (nginx syntax: ``16k``, ``1m``) with its 413
    page."""
    if not Path(NGINX).exists():
        raise RuntimeError(f"nginx not found at {NGINX}: install it (bash .ci/install does)")
    d = Path(tempfile.mkdtemp(prefix="gwdoctor-nginx-"))
    port = _free_port()
    (d / "nginx.conf").write_text(_config(d, port, backend_port, body_limit))
    # -e: the error log before the config is read (else /var/log/nginx/error.log); -p: the prefix.
    args = [NGINX, "-p", str(d), "-e", str(d / "error.log"), "-c", str(d / "nginx.conf")]
    with open(d / "stderr.log", "wb") as err:
        proc = subprocess.Popen(
            args, stdout=subprocess.DEVNULL, stderr=err, cwd=d, start_new_session=True
        )
    front = Nginx(proc, d, port, body_limit)
    wait_listening(front, proc, {port}, "nginx")
    return front
