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



# ---- Gateways that fail in ways no specific rule recognises (issue 11, "never silent") --------
# Each answers with bytes taken from a public report or a real component, so the fallback rules
# (rules/unexplained.py) are tested on what users saw, and `claude -p` is run on the same setup.

class _TeapotHandler(_Handler):
    """Every request: 418 with a small JSON body (a gateway or middleware with an odd status)."""

    def _route(self, method: str) -> None:
        body = self._body() if method == "POST" else None
        self.fake.requests.append(Recorded(method, self.path, dict(self.headers.items()), body))
        self._send(418, {"error": "I'm a teapot"})


# anthropics/claude-code#52811: Opus on Vertex, an older client sends thinking.type=enabled.
THINKING_400 = {"type": "error", "error": {
    "type": "invalid_request_error",
    "message": "\"thinking.type.enabled\" is not supported for this model. Use \"thinking.type.adaptive\" "
               "and \"output_config.effort\" to control thinking behavior."},
    "request_id": "req_vrtx_011CaNV29S9FHHK79mCMmTeC"}


class _Thinking400Handler(_Handler):
    """/v1/models lists the client's three models; every model request 400 with #52811's body."""

    def _route(self, method: str) -> None:
        self.fake.models = ("claude-opus-5-5", "claude-sonnet-5-5", "claude-haiku-5-5")
        if method == "POST" and self.path.split("?", 1)[0] == "/v1/messages":
            body = self._body()
            self.fake.requests.append(Recorded(method, self.path, dict(self.headers.items()), body))
            self._send(400, THINKING_400)
            return
        super()._route(method)


class _Sso407Handler(_Handler):
    """An authenticating front (SSO/explicit-proxy appliance) in front of the gateway: 407 to
    every request, with Proxy-Authenticate and a one-line text body, although no proxy is set."""

    def _route(self, method: str) -> None:
        body = self._body() if method == "POST" else None
        self.fake.requests.append(Recorded(method, self.path, dict(self.headers.items()), body))
        self._send(407, b"Proxy Authentication Required", "text/plain",
                   headers=[("proxy-authenticate", 'Basic realm="corp-sso"')])


class _FastapiMethod405Handler(_Handler):
    """A web app (FastAPI) at the base URL whose routes take only GET: 405 to POST."""

    def _route(self, method: str) -> None:
        body = self._body() if method == "POST" else None
        self.fake.requests.append(Recorded(method, self.path, dict(self.headers.items()), body))
        if method == "POST":
            self._send(405, {"detail": "Method Not Allowed"}, headers=[("allow", "GET")])
        else:
            self._send(200, {"data": [], "object": "list"})


def _mtls_context() -> "ssl.SSLContext":
    """A TLS server context that demands a client certificate (signed by a CA nobody has)."""
    import datetime
    import ssl

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
            .sign(key, hashes.SHA256()))
    d = Path(tempfile.mkdtemp(prefix="gwdoctor-mtls-"))
    (d / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (d / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                  serialization.PrivateFormat.PKCS8,
                                                  serialization.NoEncryption()))
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(d / "cert.pem", d / "key.pem")
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.load_verify_locations(d / "cert.pem")
    return ctx


class _MtlsRequiredHandler(_Handler):
    """The fake gateway behind TLS that requires a client certificate (mutual TLS): without
    one, the handshake ends with the certificate_required alert (TLS 1.3: after the client
    thinks it is done)."""

    _ctx: object = None

    def setup(self) -> None:
        import ssl

        cls = type(self)
        if cls._ctx is None:
            cls._ctx = _mtls_context()
        try:
            self.request = cls._ctx.wrap_socket(self.request, server_side=True)
            self._tls_ok = True
        except (OSError, ssl.SSLError):
            self._tls_ok = False
        super().setup()

    def handle(self) -> None:
        if self._tls_ok:
            super().handle()


SCENARIO_GATEWAY_MODES.update({
    "teapot": _TeapotHandler, "thinking_400": _Thinking400Handler, "sso_407": _Sso407Handler,
    "fastapi_405": _FastapiMethod405Handler, "mtls_required": _MtlsRequiredHandler,
})
