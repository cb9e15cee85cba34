"""Fixtures for the network side: squid (auth, refused port, ssl-bump), TLS servers, plain HTTP,
tarpit, closed port."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Iterator

import pytest

from ._squid import BUMP_CA_NAME, Squid, start_squid
from ._tls import (
    LoopbackServer,
    Pki,
    closed_port,
    make_pki,
    plain_http_handler,
    tarpit_handler,
    tls_handler,
)

__all__ = ["BUMP_CA_NAME", "PROXY_PASSWORD", "PROXY_USER", "UNRESOLVABLE_HOST",
           "closed_port_number", "net_pki", "plain_http_server", "squid", "tarpit_server",
           "tls_servers", "unresolvable_host"]

PROXY_USER = "labuser"
# A canary: it must never appear in facts. The '@' and ':' need percent-encoding in a URL.
PROXY_PASSWORD = "Canary@pw:7f3e"
# RFC 2606 reserves .invalid: no resolver anywhere may answer it.
UNRESOLVABLE_HOST = "llm-gateway.gwdoctor-test.invalid"
TLS_KINDS = ("valid", "selfsigned", "wrong_host", "expired", "incomplete")


@pytest.fixture(scope="session")
def net_pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    """A private CA (trustme) and server/client certificates, as files."""
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="session")
def tls_servers(net_pki: Pki) -> Iterator[SimpleNamespace]:
    """One TLS server per certificate problem: valid, selfsigned, wrong_host, expired,
    incomplete (leaf signed by an intermediate it does not send). Each speaks minimal HTTP."""
    servers = {kind: LoopbackServer(tls_handler(net_pki.server_context(kind)), f"tls-{kind}")
               for kind in TLS_KINDS}
    yield SimpleNamespace(pki=net_pki, **servers)
    for server in servers.values():
        server.close()


@pytest.fixture(scope="session")
def plain_http_server() -> Iterator[LoopbackServer]:
    server = LoopbackServer(plain_http_handler, "plain-http")
    yield server
    server.close()


@pytest.fixture(scope="session")
def tarpit_server() -> Iterator[LoopbackServer]:
    """Accepts connections and never answers."""
    server = LoopbackServer(tarpit_handler, "tarpit")
    yield server
    server.close()


@pytest.fixture(scope="session")
def closed_port_number() -> int:
    return closed_port()


@pytest.fixture(scope="session")
def unresolvable_host() -> str:
    return UNRESOLVABLE_HOST


@pytest.fixture(scope="session")
def squid(net_pki: Pki) -> Iterator[Squid]:
    """A real squid: Basic auth on ``port`` (user ``labuser``, canary password), CONNECT
    and GET to ``blocked_port`` refused with 403, and ``bump_port`` doing ssl-bump with
    a CA named like a vendor's (``bump_ca_pem``), trusting the test gateway CA upstream."""
    proxy = start_squid(net_pki.ca_pem, PROXY_USER, PROXY_PASSWORD)
    yield proxy
    proxy.stop()
