"""Which certificate authorities the real client trusts for an https gateway, per variable and
settings file, against gwdoctor's verdict with the client's trust store (``tls.verify.client``).
The recorder speaks TLS with a certificate from a private CA made for the test."""

from __future__ import annotations

from typing import Any, Callable

import pytest
from _capture import Capture, Case, predict_live

T = {"tls": "valid", "base_host": "localhost"}
CASES = [
    Case("private-ca-untrusted-by-default", (), **T),
    Case("extra-ca-exported", (), env={"NODE_EXTRA_CA_CERTS": "{ca}"}, **T),
    Case("extra-ca-in-settings-env", ("extra_ca_from_settings_env",),
         user_settings={"env": {"NODE_EXTRA_CA_CERTS": "{ca}"}}, **T),
    Case("ssl-cert-file-feeds-the-system-store", ("system_store_honours_ssl_cert_file",),
         env={"SSL_CERT_FILE": "{ca}"}, **T),
    Case("bundled-store-ignores-ssl-cert-file", (),
         env={"SSL_CERT_FILE": "{ca}", "CLAUDE_CODE_CERT_STORE": "bundled"}, **T),
    Case("requests-ca-bundle-is-not-the-clients", (), env={"REQUESTS_CA_BUNDLE": "{ca}"}, **T),
]



@pytest.mark.client
@pytest.mark.parametrize("version", ["2.1.332", "2.1.197"])
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_gwdoctor_trusts_what_the_client_trusts(case: Case, version: str, net_pki: Any,
                                                captured: Callable[[Case, str], Capture]) -> None:
    cap = captured(case, version)
    client_ok = cap.rc == 0 and bool(cap.messages)
    facts, _ = predict_live(cap, pki=net_pki, probes=("tls.gateway",))
    verdict = facts.get("tls.verify.client") or {}
    assert bool(verdict.get("trusted")) == client_ok, (
        f"{version} {case.id}: client {'answered' if client_ok else 'failed'} "
        f"({(cap.stdout + cap.stderr).strip()[-200:]!r}); "
        f"gwdoctor trusted={verdict.get('trusted')} stores={verdict.get('stores')}")
