"""tls.gateway, tls.scheme and tls.config against real TLS servers, squid ssl-bump, and the
client's trust store."""

from __future__ import annotations

import json
import time
from pathlib import Path

import certifi
import httpx
import pytest
from gwdoctor.engine.registry import builtin_rules
from gwdoctor.probes._http import classify_transport_error, client_for
from gwdoctor.probes._trust import load_cert_file
from gwdoctor.probes._x509 import inspection_vendor
from gwdoctor.probes.tls import tls_config, tls_gateway, tls_scheme
from live._netctx import net_ctx
from live.network import BUMP_CA_NAME, PROXY_PASSWORD

RULES = {r.id: r for r in builtin_rules()}
pytestmark = pytest.mark.live


def _tls(url: str, env: dict[str, str] | None = None, **kw) -> dict:
    ctx = net_ctx(url, env, **kw)
    ctx.facts.update(tls_gateway.run(ctx))
    ctx.facts.update(tls_config.run(ctx))
    return dict(ctx.facts)


def test_private_ca_in_node_extra_ca_certs_is_trusted(tls_servers):
    facts = _tls(tls_servers.valid.url(), {"NODE_EXTRA_CA_CERTS": str(tls_servers.pki.ca_pem)})
    assert facts["tls.handshake"]["status"] == "ok" and facts["tls.handshake"]["via_proxy"] is False
    assert (facts["tls.verify.client"]["trusted"] is True
            and facts["tls.verify.client"]["code"] is None)
    assert f"extra:{tls_servers.pki.ca_pem}" in facts["tls.verify.client"]["stores"]
    assert facts["tls.hostname_match"] is True and facts["tls.expired"] is False
    json.dumps(facts)


def test_ca_only_in_requests_bundle_is_trusted_by_others_not_the_client(tls_servers):
    ca = str(tls_servers.pki.ca_pem)
    facts = _tls(tls_servers.valid.url(), {"REQUESTS_CA_BUNDLE": ca, "CURL_CA_BUNDLE": ca})
    assert facts["tls.verify.client"] == {**facts["tls.verify.client"], "trusted": False,
                                          "code": "UNABLE_TO_VERIFY_LEAF_SIGNATURE"}
    sources = {s["name"]: s["trusted"] for s in facts["tls.verify.other"]["sources"]}
    assert sources["REQUESTS_CA_BUNDLE"] and sources["CURL_CA_BUNDLE"] and not sources["system"]
    findings = RULES["TLS001"].evaluate(facts)
    assert findings and f"export NODE_EXTRA_CA_CERTS='{ca}'" in findings[0].fixes[0].snippet
    assert not RULES["TLS009"].evaluate(facts)


@pytest.mark.parametrize(("kind", "code", "rule"), [
    ("selfsigned", "DEPTH_ZERO_SELF_SIGNED_CERT", "TLS001"),
    ("wrong_host", "ERR_TLS_CERT_ALTNAME_INVALID", "TLS003"),
    ("expired", "CERT_HAS_EXPIRED", "TLS004"),
    ("incomplete", "UNABLE_TO_VERIFY_LEAF_SIGNATURE", "TLS009"),
])
def test_broken_certificates_map_to_node_codes(tls_servers, kind, code, rule):
    server = getattr(tls_servers, kind)
    facts = _tls(server.url("https", "localhost"),
                 {"NODE_EXTRA_CA_CERTS": str(tls_servers.pki.ca_pem)})
    assert facts["tls.verify.client"]["code"] == code
    assert RULES[rule].evaluate(facts), facts
    if kind == "incomplete":
        assert facts["tls.chain_incomplete"] is True and not RULES["TLS001"].evaluate(facts)
    if kind == "wrong_host":
        assert (facts["tls.hostname_match"] is False
                and facts["tls.verify.client"]["trusted"] is True)


def test_ssl_bump_is_recognised_as_inspection(squid, tls_servers):
    facts = _tls(tls_servers.valid.url(), {"HTTPS_PROXY": squid.bump_url,
                                           "NODE_EXTRA_CA_CERTS": str(tls_servers.pki.ca_pem),
                                           "CURL_CA_BUNDLE": str(squid.bump_ca_pem)})
    assert facts["tls.handshake"]["via_proxy"] is True
    assert BUMP_CA_NAME in facts["tls.chain"][0]["issuer"]
    assert facts["tls.inspection_vendor"] == "Zscaler"
    assert facts["tls.verify.client"]["code"] == "SELF_SIGNED_CERT_IN_CHAIN"
    findings = RULES["TLS002"].evaluate(facts)
    assert findings and (findings[0].confidence or 0) >= 0.97
    assert str(squid.bump_ca_pem) in findings[0].fixes[0].snippet
    trusted = _tls(tls_servers.valid.url(), {"HTTPS_PROXY": squid.bump_url,
                                             "NODE_EXTRA_CA_CERTS": str(squid.bump_ca_pem)})
    assert trusted["tls.verify.client"]["trusted"] is True


def test_tls_through_the_authenticated_squid_tunnel(squid, tls_servers):
    facts = _tls(tls_servers.valid.url(), {"HTTPS_PROXY": squid.url(),
                                           "NODE_EXTRA_CA_CERTS": str(tls_servers.pki.ca_pem)})
    assert facts["tls.handshake"]["via_proxy"] is True and facts["tls.verify.client"]["trusted"]
    assert PROXY_PASSWORD not in json.dumps(facts)


def test_scheme_mismatches(tls_servers, plain_http_server):
    https_plain = net_ctx(plain_http_server.url("https"))
    assert tls_scheme.run(https_plain) == {"tls.scheme_mismatch": "https_to_plain"}
    assert tls_gateway.run(https_plain)["tls.handshake"]["status"] == "plain_http"
    assert tls_scheme.run(net_ctx(tls_servers.valid.url("http"))) == {
        "tls.scheme_mismatch": "http_to_tls"}
    assert tls_scheme.run(net_ctx(tls_servers.valid.url("https"))) == {"tls.scheme_mismatch": None}
    assert tls_scheme.run(net_ctx(plain_http_server.url("http"))) == {"tls.scheme_mismatch": None}


def test_tarpit_handshake_is_bounded(tarpit_server):
    started = time.monotonic()
    facts = tls_gateway.run(net_ctx(tarpit_server.url(), timeout=0.5))
    assert facts["tls.handshake"]["status"] == "timeout"
    assert time.monotonic() - started < 2.0


def test_extra_ca_file_checks(tmp_path, tls_servers):
    ctx = lambda v, **kw: tls_config.run(net_ctx(  # noqa: E731
        "https://gw.example.com", {"NODE_EXTRA_CA_CERTS": v}, cwd=tmp_path, **kw))["tls.extra_ca"]
    der = ctx(str(tls_servers.pki.der_ca))
    assert der["exists"] and der["readable"] and not der["pem"] and "DER" in der["error"]
    assert "expand ~" in ctx("~/corp.pem")["error"]
    assert ctx(str(tmp_path / "missing.pem"))["exists"] is False
    (tmp_path / "certs").mkdir()
    (tmp_path / "certs/ca.pem").write_bytes(tls_servers.pki.ca_pem.read_bytes())
    rel = ctx("certs/ca.pem")
    assert rel["relative"] and rel["count"] == 1 and rel["error"] is None
    assert ctx(certifi.where())["count"] > 100


def test_extra_ca_from_settings_is_applied_per_version(tls_servers):
    ca = str(tls_servers.pki.ca_pem)
    env_fact = {"NODE_EXTRA_CA_CERTS": {"value": ca, "secret": False, "overridden": [],
                                        "source": {"layer": "user",
                                                   "file": "/h/.claude/settings.json"}}}
    new = _tls(tls_servers.valid.url(), version="2.1.332", facts={"config.env": env_fact})
    # Before the first captured version (2.1.197, which applies it) the docs say it was not.
    old = _tls(tls_servers.valid.url(), version="2.1.100", facts={"config.env": env_fact})
    assert new["tls.extra_ca"]["applied"] and new["tls.verify.client"]["trusted"]
    assert not old["tls.extra_ca"]["applied"] and not old["tls.verify.client"]["trusted"]


def test_client_certificate_checks(tls_servers):
    files = tls_servers.pki.files
    def info(cert: Path, key: Path) -> dict:
        env = {"CLAUDE_CODE_CLIENT_CERT": str(cert), "CLAUDE_CODE_CLIENT_KEY": str(key)}
        return tls_config.run(net_ctx("https://gw.example.com", env))["tls.client_cert"]
    good = info(*files["client"])
    assert good["loadable"] and good["expired"] is False
    assert info(*files["client_expired"])["expired"] is True
    mismatched = info(files["client"][0], files["client_expired"][1])
    assert (mismatched["loadable"] is False
            and RULES["TLS006"].evaluate({"tls.client_cert": mismatched}))


def test_reject_unauthorized_zero_is_reported():
    facts = tls_config.run(net_ctx("https://gw.example.com", {"NODE_TLS_REJECT_UNAUTHORIZED": "0"}))
    assert facts["tls.reject_unauthorized_disabled"] is True


def test_client_for_uses_the_clients_trust_store(tls_servers, tmp_path):
    url, ca = tls_servers.valid.url(), str(tls_servers.pki.ca_pem)
    def get(env: dict[str, str]) -> int | str:
        with client_for(net_ctx(url, env)) as client:
            try:
                return client.get(url + "/").status_code
            except httpx.TransportError as exc:
                return classify_transport_error(exc)
    assert get({"NODE_EXTRA_CA_CERTS": ca}) == 200
    assert get({"REQUESTS_CA_BUNDLE": ca}) == "tls"
    assert get({"SSL_CERT_FILE": ca}) == 200                       # the system store honours it
    assert get({"SSL_CERT_FILE": ca, "CLAUDE_CODE_CERT_STORE": "bundled"}) == "tls"
    assert get({"NODE_TLS_REJECT_UNAUTHORIZED": "0"}) == 200


def test_ssl_cert_dir_links_count_each_root_once(tls_servers, tmp_path):
    """A Debian-style directory: the real file elsewhere, a .pem link and a hash link to it."""
    from gwdoctor.probes._trust import client_trust

    url, ca = tls_servers.valid.url(), tls_servers.pki.ca_pem
    real = tmp_path / "share" / "private-ca.crt"
    real.parent.mkdir()
    real.write_bytes(Path(ca).read_bytes())
    certs = tmp_path / "certs"
    certs.mkdir()
    (certs / "private-ca.pem").symlink_to(real)
    (certs / "0a1b2c3d.0").symlink_to("private-ca.pem")
    env = {"SSL_CERT_DIR": str(certs), "SSL_CERT_FILE": str(tmp_path / "none.crt")}
    ctx = net_ctx(url, env)
    trust = client_trust(ctx)
    private = [c for c in trust.certs if c.subject == load_cert_file(real)[1][0].subject]
    assert len(private) == 1
    assert f"system:{certs}" in trust.stores
    with client_for(ctx) as client:  # and the real handshake trusts it
        assert client.get(url + "/").status_code == 200


def test_client_for_goes_through_squid_with_credentials(squid, plain_http_server, tls_servers):
    for url in (plain_http_server.url("http"), tls_servers.valid.url()):
        env = {"HTTPS_PROXY": squid.url(), "NODE_EXTRA_CA_CERTS": str(tls_servers.pki.ca_pem)}
        with client_for(net_ctx(url, env)) as client:
            assert client.get(url + "/").status_code == 200
    with client_for(net_ctx(tls_servers.valid.url(),
                            {"HTTPS_PROXY": squid.url(credentials=False)})) as client:
        with pytest.raises(httpx.ProxyError) as err:
            client.get(tls_servers.valid.url() + "/")
        assert classify_transport_error(err.value) == "proxy"


def test_no_public_root_looks_like_an_inspection_vendor():
    roots = load_cert_file(certifi.where())[1]
    assert len(roots) > 100
    hits = [(r.subject.rfc4514_string(), inspection_vendor([r])[0]) for r in roots
            if inspection_vendor([r])[0]]
    assert hits == []


def test_encrypted_client_key_without_passphrase_never_prompts(tls_servers, tmp_path: Path) -> None:
    """OpenSSL would ask for the passphrase on the terminal and block the probe (review
    finding); the fact must say the key is encrypted and no passphrase is set."""
    from cryptography.hazmat.primitives import serialization

    cert, key = tls_servers.pki.files["client"]
    private = serialization.load_pem_private_key(key.read_bytes(), password=None)
    encrypted = tmp_path / "client-encrypted.key"
    encrypted.write_bytes(private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"s3cret-passphrase")))
    env = {"CLAUDE_CODE_CLIENT_CERT": str(cert), "CLAUDE_CODE_CLIENT_KEY": str(encrypted)}
    started = time.monotonic()
    info = tls_config.run(net_ctx("https://gw.example.com", env))["tls.client_cert"]
    assert time.monotonic() - started < 2
    assert info["loadable"] is False and "encrypted" in info["error"], info
    env["CLAUDE_CODE_CLIENT_KEY_PASSPHRASE"] = "s3cret-passphrase"
    assert tls_config.run(net_ctx("https://gw.example.com", env))["tls.client_cert"]["loadable"]


def test_a_store_certificate_with_an_unparsable_subject_does_not_fail_the_verdict():
    """cryptography loads such a certificate but raises on `.subject`; it can anchor nothing
    and must not hide the good root after it (review finding)."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.name import _ASN1Type
    from cryptography.x509.oid import NameOID
    from gwdoctor.probes._x509 import verify_chain

    def make(subject, issuer, key, signer, ca=True, san=None):
        now = datetime.datetime.now(datetime.timezone.utc)
        b = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer)
             .public_key(key.public_key()).serial_number(x509.random_serial_number())
             .not_valid_before(now - datetime.timedelta(days=1))
             .not_valid_after(now + datetime.timedelta(days=30))
             .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
        if san:
            b = b.add_extension(x509.SubjectAlternativeName([x509.DNSName(san)]), critical=False)
        return b.sign(signer, hashes.SHA256())

    root_key, leaf_key, bad_key = (ec.generate_private_key(ec.SECP256R1()) for _ in range(3))
    root_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Good Root")])
    root = make(root_name, root_name, root_key, root_key)
    leaf = make(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "gw.test")]), root_name,
                leaf_key, root_key, ca=False, san="gw.test")
    bad_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ZZZZQQQQ",
                                             _type=_ASN1Type.UTF8String)])
    der = make(bad_name, bad_name, bad_key, bad_key).public_bytes(serialization.Encoding.DER)
    bad = x509.load_der_x509_certificate(der.replace(b"ZZZZQQQQ", b"\xff\xfe\xff\xfeZZZZ"))
    with pytest.raises(ValueError):
        bad.subject  # noqa: B018  the premise: the subject cannot be parsed
    result = verify_chain([leaf], [bad, root], "gw.test")
    assert result["trusted"] is True and result["code"] is None


def test_a_fifo_in_a_ca_directory_is_skipped_not_waited_on(tmp_path, tls_servers):
    import os
    import threading

    from gwdoctor.probes._trust import _load_dir

    certs = tmp_path / "certs"
    certs.mkdir()
    os.mkfifo(certs / "planted.pem")
    (certs / "private-ca.pem").write_bytes(Path(tls_servers.pki.ca_pem).read_bytes())
    found: list = []
    worker = threading.Thread(target=lambda: found.append(_load_dir(certs)), daemon=True)
    worker.start()
    worker.join(10)
    assert not worker.is_alive(), "reading the CA directory blocked on the FIFO"
    assert len(found[0]) == 1
