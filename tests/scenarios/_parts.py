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
import ssl
import subprocess
import tempfile
import threading
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Callable

from live._fake_upstream import FakeUpstream, Recorded, _Handler
from live._listen import wait_listening
from live._squid import LIBEXEC, SQUID, Squid

__all__ = ["SCENARIO_GATEWAY_MODES", "relay_to_litellm", "start_ntlm_squid",
           "start_scenario_gateway"]


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


SCENARIO_GATEWAY_MODES: dict[str, type] = {"no_count_tokens": _NoCountTokensHandler}


def relay_to_litellm(lab: Callable[[], dict[str, object]]) -> type[_Handler]:
    """A gateway mode that splices each connection to the real LiteLLM ``lab()["litellm"]``
    (the scenario gateway machinery starts handlers, not processes), so the client and gwdoctor
    talk to LiteLLM itself. ``lab`` starts it once per test process; the part starts it when the
    mode is started (start_scenario_gateway subclasses the handler)."""

    class _Relay(_Handler):
        def __init_subclass__(cls, **kwargs: object) -> None:
            super().__init_subclass__(**kwargs)
            lab()

        def handle(self) -> None:
            from gwdoctor.probes._recorder import _relay

            port = lab()["litellm"].port  # type: ignore[attr-defined]
            try:
                upstream = socket.create_connection(("127.0.0.1", port), timeout=10)
            except OSError:
                return
            upstream.settimeout(None)
            self.connection.settimeout(None)
            _relay(self.connection, upstream, limit=120.0)

    return _Relay


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
    # NOTE: outside pytest's 0700 tmp, as in live/_squid.py: squid drops to `proxy` when run as
    # root.
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
                                stdout=subprocess.DEVNULL, stderr=err_file, cwd=d,
                                start_new_session=True)
    squid = Squid(proc, d, port, bump_port=0, blocked_port=0, user="", password="",
                  bump_ca_pem=Path())
    wait_listening(squid, proc, {port}, "squid (NTLM)")
    return squid



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
    "message": "\"thinking.type.enabled\" is not supported for this model. "
               "Use \"thinking.type.adaptive\" and \"output_config.effort\" to control thinking "
               "behavior."},
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
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
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

    _ctx: "ssl.SSLContext | None" = None
    request: socket.socket

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


# ---- The practice set (docs/practice-set.md): public failure reports replayed byte for byte -----
# Each mode answers the client's model request with the status and body a user reported; /v1/models
# lists the models the client sends, so only the reported answer differs from a working gateway.

def _client_models() -> tuple[str, ...]:
    """What the pinned client sends for its default and alias models, captured from it
    (live/_client_truth.py): the lab never takes these names from knowledge/."""
    from live._client_truth import client_models

    return tuple(dict.fromkeys(client_models().values()))


def _canned(status: int, body: bytes | str | dict, ctype: str = "application/json",
            when: Callable[[dict], bool] | None = None, headers: tuple = ()) -> type:
    """A gateway that answers POST /v1/messages with ``status``/``body`` (when ``when(request
    body)`` holds, else as the fake normally does) and lists the client's models."""

    class _Canned(_Handler):
        def _route(self, method: str) -> None:
            self.fake.models = _client_models()
            if method == "POST" and self.path.split("?", 1)[0] == "/v1/messages":
                request = self._body() or {}
                self.fake.requests.append(Recorded(method, self.path, dict(self.headers.items()),
                                                   request))
                if when is None or when(request):
                    self._send(status, body if isinstance(body, (bytes, str))
                               else __import__("json").dumps(body), ctype, headers=headers)
                else:
                    self._messages(request)
                return
            if self.path.split("?", 1)[0] in ("/v1/chat/completions", "/chat/completions"):
                # an Anthropic-format relay: no OpenAI route
                self._send(404, {"detail": "Not Found"})
                return
            super()._route(method)

    return _Canned


class _ConnectDropHandler(_Handler):
    """A MITM proxy that closes a CONNECT without any status line when it cannot reach the
    destination (KarpelesLab/teamclaude#103: 'Proxy connection ended before receiving CONNECT
    response')."""

    def do_CONNECT(self) -> None:  # noqa: N802
        self.fake.requests.append(Recorded("CONNECT", self.path, dict(self.headers.items()), None))
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


_MAX_TOKENS_400 = {"error": {
    "message": "litellm.BadRequestError: OpenAIException - Could not finish the message because "
               "max_tokens or model output limit was reached. Please try again with higher "
               "max_tokens.",
    "type": "invalid_request_error", "param": None, "code": "400"}}

SCENARIO_GATEWAY_MODES.update({
    # ericc-ch/copilot-api#124
    "pr_copilot_400": _canned(400, {"error": {"message": "Bad Request\n", "type": "error"}}),
    # heyhuynhgiabuu/proxypal#189
    "pr_unknown_provider_502": _canned(502, {"error": {
        "message": "unknown provider for model gemini-claude-sonnet-4-5", "type": "server_error",
        "code": "internal_server_error"}}),
    # BerriAI/litellm#10435
    "pr_provider_config_500": _canned(500, {"error": {
        "message": "Anthropic messages provider config not found for model: "
                   "us.anthropic.claude-3-7-sonnet-20250219-v1:0",
        "type": "None", "param": "None", "code": "500"}}),
    # aidyou/chatspeed#1 ("API Error: 405 status code (no body)")
    "pr_405_no_body": _canned(405, b"", "text/plain"),
    # Wei-Shaw/claude-relay-service#1093
    "pr_client_validation_403": _canned(403, {"error": {
        "type": "client_validation_error",
        "message": "This endpoint only accepts requests from Claude Code CLI"}}),
    # farion1231/cc-switch#58 (claude-code-router)
    "pr_router_provider_404": _canned(404, {"error": {
        "message": "Error from provider(ollama-gpt-oss,gpt-oss:120b: 404): 404 page not "
                   "foundError: Error from provider(ollama-gpt-oss,gpt-oss:120b: 404): 404 page "
                   "not found"}}),
    # Wei-Shaw/sub2api#1714
    "pr_model_identifier_400": _canned(400, {"message":
                                             "The provided model identifier is invalid."}),
    # jwadow/kiro-gateway#65
    "pr_missing_or_invalid_key_401": _canned(401, {"detail": {"type": "error", "error": {
        "type": "authentication_error",
        "message": "Invalid or missing API key. Use x-api-key header or Authorization: Bearer."}}}),
    # kiyo-e/claude-code-proxy#6
    "pr_upstream_key_unset_401": _canned(401, {"error": "Unauthorized\n"}),
    # anthropics/claude-code#1613, #453
    "pr_request_not_allowed_403": _canned(403, {"error": {"type": "forbidden",
                                                          "message": "Request not allowed"}}),
    # BerriAI/litellm#35061: only the max_tokens=1 probe fails
    "pr_max_tokens_1_400": _canned(400, _MAX_TOKENS_400, when=lambda b: b.get("max_tokens") == 1),
    # Exgentic/exgentic#147
    "pr_missing_api_key_arg_500": _canned(500, {"error": {
        "message": "anthropic_messages() missing 1 required positional argument: 'api_key'",
        "type": "None", "param": "None", "code": "500"}}),
    # continuedev/continue#12769
    "pr_cloudflare_502": _canned(502, b"<html>\n<head><title>502 Bad Gateway</title></head>\n"
                                      b"<body>\n<center><h1>502 Bad Gateway</h1></center>\n"
                                      b"<hr><center>cloudflare</center>\n</body>\n</html>\n",
                                 "text/html"),
    # jtsang4/claude-to-chatgpt#5
    "pr_worker_403_html": _canned(403, b'<!doctype html><meta charset="utf-8"><meta name=viewport '
                                       b'content="width=device-width, initial-scale=1">'
                                       b'<title>403</title>403 Forbidden',
                                  "text/html"),
    "pr_connect_drop": _ConnectDropHandler,
})


# The client survives a failing background model (`claude -p` sends only the main model): a fault
# there must be a warning. Only requests for a haiku model get 405 from this gateway.
SCENARIO_GATEWAY_MODES["haiku_405"] = _canned(
    405, {"detail": "Method Not Allowed"},
    when=lambda body: "haiku" in str(body.get("model") or ""))
