"""Scenario-only variants of the lab parts, for faults the shared lab servers cannot show.

Each reuses a lab server rather than adding a new kind: the fake gateway without its
count_tokens route (a gateway from before count_tokens support), and the lab's squid
binary configured for Negotiate/NTLM only (a Windows-domain proxy). Nothing here edits
tests/live; the stock fixtures stay as they are.
"""

from __future__ import annotations

import os
import pwd
import socket
import subprocess
import tempfile
import threading
import time
from http.server import ThreadingHTTPServer
from pathlib import Path

from live._fake_upstream import FakeUpstream, Recorded, _Handler
from live._squid import LIBEXEC, SQUID, Squid

__all__ = ["SCENARIO_GATEWAY_MODES", "start_ntlm_squid", "start_scenario_gateway"]


class _NoCountTokensHandler(_Handler):
    """The fake gateway, except POST /v1/messages/count_tokens is an unknown route."""

    def _route(self, method: str) -> None:
        if method == "POST" and self.path.split("?", 1)[0] == "/v1/messages/count_tokens":
            body = self._body()
            self.fake.requests.append(Recorded(method, self.path, dict(self.headers.items()), body))
            # FastAPI's default 404, 22 bytes: the `404 22` in BerriAI/litellm#13252's access log.
            self._send(404, {"detail": "Not Found"})
            return
        super()._route(method)


SCENARIO_GATEWAY_MODES = {"no_count_tokens": _NoCountTokensHandler}


def start_scenario_gateway(mode: str) -> FakeUpstream:
    """Start the fake gateway (Anthropic mode) with the handler of a scenario-only ``mode``."""
    fake = FakeUpstream(mode="anthropic")
    handler = type("Handler", (SCENARIO_GATEWAY_MODES[mode],), {"fake": fake})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    fake._server = server
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                     name=f"fake-{mode}-{fake.port}", daemon=True).start()
    return fake


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _ntlm_config(d: Path, port: int) -> str:
    # Helpers start on first use (startup=0): the 407 challenge needs none, and a Kerberos
    # helper without a keytab would otherwise die at boot and take squid down with it.
    return f"""
http_port 127.0.0.1:{port}
pid_filename {d}/squid.pid
cache_log {d}/cache.log
access_log stdio:{d}/access.log
coredump_dir {d}
cache deny all
cache_mem 8 MB
pinger_enable off
shutdown_lifetime 0 seconds
visible_hostname gwdoctor-lab-ntlm
netdb_filename none
auth_param negotiate program {LIBEXEC}/negotiate_kerberos_auth
auth_param negotiate children 1 startup=0 idle=1
auth_param ntlm program {LIBEXEC}/ntlm_fake_auth
auth_param ntlm children 1 startup=0 idle=1
acl authed proxy_auth REQUIRED
http_access deny !authed
http_access allow localhost authed
http_access deny all
"""


def start_ntlm_squid() -> Squid:
    """The lab's squid, offering only Negotiate and NTLM proxy authentication (≤10 s to listen)."""
    if not Path(SQUID).exists():
        raise RuntimeError(f"squid not found at {SQUID}: install squid-openssl (CI's .ci/run does)")
    # NOTE: outside pytest's 0700 tmp, as in live/_squid.py: squid drops to `proxy` when run as root.
    d = Path(tempfile.mkdtemp(prefix="gwdoctor-squid-ntlm-"))
    os.chmod(d, 0o755)
    port = _free_port()
    conf = d / "squid.conf"
    conf.write_text(_ntlm_config(d, port))
    if os.geteuid() == 0:
        proxy = pwd.getpwnam("proxy")
        for path in [d, *d.rglob("*")]:
            os.chown(path, proxy.pw_uid, proxy.pw_gid)
    with open(d / "stderr.log", "wb") as err_file:
        # `-n`: its own service name, so nothing it names clashes with the lab squid's.
        proc = subprocess.Popen([SQUID, "-N", "-n", "gwdoctorntlm", "-f", str(conf)],
                                stdout=subprocess.DEVNULL, stderr=err_file, cwd=d, start_new_session=True)
    squid = Squid(proc, d, port, bump_port=0, blocked_port=0, user="", password="", bump_ca_pem=Path())
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            err, tail = squid.log_tail("stderr.log"), squid.log_tail()
            squid.stop()
            raise RuntimeError(f"squid (NTLM) exited with {proc.returncode}:\n{err}\n{tail}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return squid
        except OSError:
            time.sleep(0.05)
    tail = squid.log_tail()
    squid.stop()
    raise RuntimeError(f"squid (NTLM) did not listen on {port} within 10 s:\n{tail}")

