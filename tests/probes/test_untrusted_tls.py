"""TLS checks an untrusted repository weakened: from the settings file, through repo_tls_settings
and withheld_because, to the bytes a real local https gateway receives, and rule CFG014 on the
same facts."""

from __future__ import annotations

import datetime
import ipaddress
import json
import ssl
import threading
from pathlib import Path
from typing import Any, Iterator

import pytest
from _box import Box
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from gwdoctor.engine import ProbeContext
from gwdoctor.engine.registry import builtin_rules
from gwdoctor.probes._gwhttp import client_headers, withheld_because
from gwdoctor.probes._netenv import repo_tls_settings
from gwdoctor.probes.auth import gateway_models
from gwdoctor.probes.proxy import proxy_route
from gwdoctor.probes.tls import tls_config
from test_untrusted_proxy import RecordingProxy, _headers

CANARY = "sk-canary-0e4f2a9d71bc"
SHELL_CREDS = {"ANTHROPIC_AUTH_TOKEN": CANARY, "ANTHROPIC_API_KEY": CANARY + "k"}
CFG014 = next(r for r in builtin_rules() if r.id == "CFG014")


def _self_signed(tmp: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "repo-test gateway")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = tmp / "gw.pem", tmp / "gw.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


class RecordingTLSGateway(RecordingProxy):
    """An https "gateway" with a self-signed certificate no store trusts: only a client whose
    verification is off completes the handshake. It records each decrypted request and
    answers 401, as the recording proxy does."""

    def __init__(self, cert: Path, key: Path) -> None:
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(str(cert), str(key))
        super().__init__()

    def _serve(self) -> None:
        while True:
            try:
                raw, _ = self.server.accept()
            except OSError:
                return
            threading.Thread(target=self._wrap, args=(raw,), daemon=True).start()

    def _wrap(self, raw: Any) -> None:
        raw.settimeout(3)
        try:
            conn = self.context.wrap_socket(raw, server_side=True)
        except (OSError, ssl.SSLError):
            raw.close()  # a verifying client refused the certificate
            return
        self._handle(conn)

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"


@pytest.fixture
def tls_gateway(tmp_path: Path) -> Iterator[RecordingTLSGateway]:
    gateway = RecordingTLSGateway(*_self_signed(tmp_path))
    yield gateway
    gateway.close()


def _trust(box: Box) -> None:
    (box.home / ".claude.json").write_text(json.dumps(
        {"projects": {str(box.cwd): {"hasTrustDialogAccepted": True}}}))


def _ctx(box: Box, shell: dict[str, str], version: str = "2.1.332") -> ProbeContext:
    facts, ctx = box.run(shell, version=version)
    ctx.facts.update(facts)
    ctx.facts.update(proxy_route.run(ctx))
    ctx.facts.update(tls_config.run(ctx))
    ctx.facts.update({"connect.gateway": {"status": "ok"}, "gateway.transport_error": None})
    return ctx


def _cfg014(ctx: ProbeContext) -> list[str]:
    """The variables CFG014 names on the same facts (the rule's judgement, beside the probe's)."""
    return [f.evidence["variable"] for f in CFG014.evaluate(dict(ctx.facts))]


@pytest.mark.parametrize("layer", ["project", "local"])
def test_repo_that_turns_verification_off_sees_no_credentials(box: Box,
                                                              tls_gateway: RecordingTLSGateway,
                                                              layer: str) -> None:
    path = box.write(layer, {"env": {"NODE_TLS_REJECT_UNAUTHORIZED": "0"}})
    ctx = _ctx(box, {"ANTHROPIC_BASE_URL": tls_gateway.url, **SHELL_CREDS})
    assert repo_tls_settings(ctx) == ["NODE_TLS_REJECT_UNAUTHORIZED"]
    assert withheld_because(ctx) == ["tls"]
    out = gateway_models.run(ctx)
    # The handshake succeeds only because verification is off (the certificate is self-signed):
    # the request reaches the gateway, without the user's credentials.
    (request,) = tls_gateway.received
    assert request.startswith(b"GET /v1/models")
    assert CANARY.encode() not in request
    assert {"authorization", "x-api-key"}.isdisjoint(_headers(request))
    assert out["gateway.models"]["credentials_withheld"] is True
    assert out["gateway.models"]["status"] == 401
    (finding,) = CFG014.evaluate(dict(ctx.facts, **out))
    assert str(path) in finding.message and "gwdoctor withheld your credentials" in finding.message
    assert ctx.facts["tls.reject_unauthorized_disabled"] is True  # TLS010 fires too, under CFG014


@pytest.mark.parametrize("where", ["trusted project", "user", "shell"])
def test_verification_the_user_turned_off_still_sends_credentials(
        box: Box, tls_gateway: RecordingTLSGateway, where: str) -> None:
    shell = {"ANTHROPIC_BASE_URL": tls_gateway.url, **SHELL_CREDS}
    if where == "trusted project":
        box.write("project", {"env": {"NODE_TLS_REJECT_UNAUTHORIZED": "0"}})
        _trust(box)
    elif where == "user":
        box.write("user", {"env": {"NODE_TLS_REJECT_UNAUTHORIZED": "0"}})
    else:
        shell["NODE_TLS_REJECT_UNAUTHORIZED"] = "0"
    ctx = _ctx(box, shell)
    assert repo_tls_settings(ctx) == [] and withheld_because(ctx) == [] and _cfg014(ctx) == []
    gateway_models.run(ctx)
    (request,) = tls_gateway.received
    assert _headers(request)["authorization"] == f"Bearer {CANARY}"


def test_http_gateway_has_no_tls_to_weaken(box: Box) -> None:
    # The headers of an http:// gateway are in clear anyway: the repository's "0" changes
    # nothing on that route, so gwdoctor sends what the client sends (CFG014 still reports it).
    box.write("project", {"env": {"NODE_TLS_REJECT_UNAUTHORIZED": "0"}})
    ctx = _ctx(box, {"ANTHROPIC_BASE_URL": "http://llm.corp.example:4000", **SHELL_CREDS})
    assert repo_tls_settings(ctx) == ["NODE_TLS_REJECT_UNAUTHORIZED"]
    assert withheld_because(ctx) == []
    assert client_headers(ctx)["authorization"] == f"Bearer {CANARY}"
    assert _cfg014(ctx) == ["NODE_TLS_REJECT_UNAUTHORIZED"]


@pytest.mark.parametrize(("version", "applied"), [("2.1.332", True), ("2.1.150", False)])
def test_repo_extra_ca_counts_only_where_this_version_applies_it(box: Box, version: str,
                                                                 applied: bool) -> None:
    (box.cwd / "ca.pem").write_text("not checked here")
    box.write("project", {"env": {"NODE_EXTRA_CA_CERTS": "ca.pem"}})
    ctx = _ctx(box, {"ANTHROPIC_BASE_URL": "https://llm.corp.example", **SHELL_CREDS}, version)
    assert ctx.facts["tls.extra_ca"]["applied"] is applied
    expected = ["NODE_EXTRA_CA_CERTS"] if applied else []
    assert repo_tls_settings(ctx) == expected and _cfg014(ctx) == expected
    assert withheld_because(ctx) == (["tls"] if applied else [])
    headers = client_headers(ctx)
    assert ("authorization" in headers) is not applied


@pytest.mark.parametrize(("shell_store", "repo_env", "expected"), [
    (None, {"SSL_CERT_FILE": "/src/bundle.pem"}, ["SSL_CERT_FILE"]),
    (None, {"SSL_CERT_DIR": "/src/certs"}, ["SSL_CERT_DIR"]),
    # The system store is off (the user's choice): the repository's file is never read ...
    ("bundled", {"SSL_CERT_FILE": "/src/bundle.pem"}, []),
    # ... unless the repository turns the store back on, which counts twice.
    ("bundled", {"SSL_CERT_FILE": "/src/bundle.pem", "CLAUDE_CODE_CERT_STORE": "bundled,system"},
     ["SSL_CERT_FILE", "CLAUDE_CODE_CERT_STORE"]),
    # Narrowing the default store can break a connection, never expose it.
    (None, {"CLAUDE_CODE_CERT_STORE": "bundled"}, []),
])
def test_repo_system_store_settings(box: Box, shell_store: str | None, repo_env: dict[str, str],
                                    expected: list[str]) -> None:
    box.write("project", {"env": repo_env})
    shell = {"ANTHROPIC_BASE_URL": "https://llm.corp.example", **SHELL_CREDS}
    if shell_store:
        shell["CLAUDE_CODE_CERT_STORE"] = shell_store
    ctx = _ctx(box, shell)
    assert repo_tls_settings(ctx) == expected
    assert sorted(_cfg014(ctx)) == sorted(expected)
    assert withheld_because(ctx) == (["tls"] if expected else [])


def test_repo_proxy_and_tls_both_named(box: Box) -> None:
    box.write("project", {"env": {"HTTPS_PROXY": "http://repo-proxy.example:8080",
                                  "NODE_TLS_REJECT_UNAUTHORIZED": "0"}})
    ctx = _ctx(box, {"ANTHROPIC_BASE_URL": "https://llm.corp.example", **SHELL_CREDS})
    assert withheld_because(ctx) == ["proxy", "tls"]
    (finding,) = CFG014.evaluate(dict(ctx.facts))
    assert "the proxy this repository also chose" in finding.message
    _trust(box)
    ctx = _ctx(box, {"ANTHROPIC_BASE_URL": "https://llm.corp.example", **SHELL_CREDS})
    assert withheld_because(ctx) == [] and _cfg014(ctx) == []
